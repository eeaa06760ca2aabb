// How a forecast's rates and shifts are written, the same in the MDF panel, the CLI's summary and
// the editor's findings: one decimal, in percent or percentage points. A nonzero value that one
// decimal would show as zero is written "<0.1" (a shift keeps its sign: "+<0.1"), so that a column
// never mixes "+0.0012" with "+3.4" and a tiny shift is not shown as none.

/** A rate in percent without the unit: "12.3", "<0.1" (nonzero below 0.05%), "0.0". */
export function percent(x: number): string {
  const text = (100 * Math.abs(x)).toFixed(1);
  if (text === '0.0' && x !== 0) return x > 0 ? '<0.1' : '-<0.1';
  return `${x < 0 ? '-' : ''}${text}`;
}

/** A shift in percentage points without the unit, always signed: "+3.4", "-0.5", "+<0.1", "+0.0". */
export function signedPoints(x: number): string {
  const text = percent(x);
  return text.startsWith('-') ? text : `+${text}`;
}
