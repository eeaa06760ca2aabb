// Everything the CLI prints passes through here. Data (labels, file names, record previews,
// error messages quoting a file) may hold terminal control sequences — ESC [ ... can retitle,
// recolour or rewrite the user's terminal — so control characters are printed as visible \uXXXX
// escapes. In --json output those characters only occur inside strings, where \uXXXX is the
// same character, so the JSON stays valid and equal.

// C0 controls except tab and newline, DEL, C1 controls, and the bidirectional overrides and
// isolates (text that displays in another order than it reads)
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

export function escapeControl(text: string): string {
  return text.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
