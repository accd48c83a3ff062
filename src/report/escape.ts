/** Escaping for HTML and SVG text and attributes: plan text is user input and must never become markup. */

const entities: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for use in HTML/SVG element content or a quoted attribute value. */
export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => entities[ch] ?? ch);
}

/** Rounds a coordinate to one decimal so the SVG stays small and stable across platforms. */
export function px(n: number): string {
  return String(Math.round(n * 10) / 10);
}
