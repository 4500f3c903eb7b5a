/** ANSI styling that switches off entirely for NO_COLOR, --no-color and non-terminals. */
export interface Style {
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
}

const wrap = (open: number, close: number) => (s: string) => `\u001b[${open}m${s}\u001b[${close}m`;

export const plainStyle: Style = { bold: (s) => s, dim: (s) => s, red: (s) => s, green: (s) => s, yellow: (s) => s, cyan: (s) => s };
export const colorStyle: Style = { bold: wrap(1, 22), dim: wrap(2, 22), red: wrap(31, 39), green: wrap(32, 39), yellow: wrap(33, 39), cyan: wrap(36, 39) };

export function styleFor(stream: NodeJS.WriteStream, noColorFlag: boolean): Style {
  if (noColorFlag || 'NO_COLOR' in process.env || !stream.isTTY) return plainStyle;
  return colorStyle;
}
