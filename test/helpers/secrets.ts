/** Secrets for redaction tests. */

/** Key-shaped test strings, assembled so this file itself holds none verbatim. */
export const fakeSecrets = {
  anthropic: ['sk', 'ant', 'api03', 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4'].join('-'),
  openai: ['sk', 'proj', 'Zz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2'].join('-'),
  github: ['ghp', 'aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5'].join('_'),
  githubPat: ['github', 'pat', '11ABCDEFG0123456789', 'abcdefghijklmnopqrstuvwxyz'].join('_'),
  aws: ['AKIA', 'IOSFODNN7EXAMPLE'].join(''),
  slack: ['xoxb', '123456789012', 'abcdefABCDEF'].join('-'),
  bearer: ['Bearer', 'eyJhbGciOiJIUzI1NiJ9.payload.signature'].join(' '),
};
