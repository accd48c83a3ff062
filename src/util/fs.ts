/** Small file-system questions. */
import { access } from 'node:fs/promises';

/** True when `file` exists (anything at that path, a dangling symlink excepted). */
export async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}
