/**
 * Terminal output to HTML, on the server, for the final log page: text is
 * escaped, SGR colour sequences become spans with the same classes the
 * page's live viewer uses, every other escape sequence is dropped. Fed piece
 * by piece (a sequence or a UTF-8 character may be cut between pieces), so
 * a large log never has to be in memory at once.
 */

interface Sgr {
  fg: number | string | null;
  bg: number | string | null;
  bold: boolean;
  dim: boolean;
  italic: boolean;
  underline: boolean;
  inverse: boolean;
}

const plain = (): Sgr => ({
  fg: null,
  bg: null,
  bold: false,
  dim: false,
  italic: false,
  underline: false,
  inverse: false,
});

const ESC = "\u001b";
// CSI sequences (SGR among them), OSC strings, two-character escapes, and CR or CRLF.
const SEQUENCE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: terminal control sequences are what this parses
  /\u001b\[([0-?]*)[ -/]*([@-~])|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-_]?|\r\n?/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: terminal control sequences are what this parses
const COMPLETE = /^(?:\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-Z\\-_])/;
// Controls a <pre> would show as garbage; tab and newline stay.
// biome-ignore lint/suspicious/noControlCharactersInRegex: terminal control sequences are what this parses
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f]/g;

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

function color256(n: number): number | string {
  if (n < 16) return n;
  if (n < 232) {
    const levels = [0, 95, 135, 175, 215, 255];
    const index = n - 16;
    return `rgb(${levels[Math.floor(index / 36)]},${levels[Math.floor(index / 6) % 6]},${levels[index % 6]})`;
  }
  const gray = 8 + (n - 232) * 10;
  return `rgb(${gray},${gray},${gray})`;
}

const clampByte = (value: number | undefined): number => Math.max(0, Math.min(255, (value ?? 0) | 0));

function applySgr(state: Sgr, paramText: string): Sgr {
  const params =
    paramText === "" ? [0] : paramText.split(/[;:]/).map((p) => (p === "" ? 0 : Number.parseInt(p, 10)));
  let next = { ...state };
  for (let i = 0; i < params.length; i++) {
    const p = params[i] ?? 0;
    if (p === 0) next = plain();
    else if (p === 1) next.bold = true;
    else if (p === 2) next.dim = true;
    else if (p === 3) next.italic = true;
    else if (p === 4) next.underline = true;
    else if (p === 7) next.inverse = true;
    else if (p === 22) next.bold = next.dim = false;
    else if (p === 23) next.italic = false;
    else if (p === 24) next.underline = false;
    else if (p === 27) next.inverse = false;
    else if (p >= 30 && p <= 37) next.fg = p - 30;
    else if (p === 39) next.fg = null;
    else if (p >= 40 && p <= 47) next.bg = p - 40;
    else if (p === 49) next.bg = null;
    else if (p >= 90 && p <= 97) next.fg = p - 90 + 8;
    else if (p >= 100 && p <= 107) next.bg = p - 100 + 8;
    else if (p === 38 || p === 48) {
      let value: number | string;
      if (params[i + 1] === 5 && params[i + 2] !== undefined) {
        value = color256(Math.min(255, params[i + 2] ?? 0));
        i += 2;
      } else if (params[i + 1] === 2 && params[i + 4] !== undefined) {
        value = `rgb(${clampByte(params[i + 2])},${clampByte(params[i + 3])},${clampByte(params[i + 4])})`;
        i += 4;
      } else {
        break;
      }
      if (p === 38) next.fg = value;
      else next.bg = value;
    }
  }
  return next;
}

function span(state: Sgr, text: string): string {
  const escaped = escapeHtml(text.replace(CONTROLS, ""));
  if (escaped === "") return "";
  let fg = state.inverse ? state.bg : state.fg;
  const bg = state.inverse ? (state.fg ?? 7) : state.bg;
  if (state.inverse && fg === null) fg = 0;
  if (fg === null && bg === null && !state.bold && !state.dim && !state.italic && !state.underline)
    return escaped;
  const classes: string[] = [];
  const styles: string[] = [];
  if (state.bold) classes.push("b");
  if (state.dim) classes.push("d");
  if (state.italic) classes.push("i");
  if (state.underline) classes.push("u");
  if (typeof fg === "number") classes.push(`f${fg}`);
  else if (fg !== null) styles.push(`color:${fg}`);
  if (typeof bg === "number") classes.push(`g${bg}`);
  else if (bg !== null) styles.push(`background-color:${bg}`);
  const style = styles.length > 0 ? ` style="${styles.join(";")}"` : "";
  return `<span class="${classes.join(" ")}"${style}>${escaped}</span>`;
}

export class AnsiHtmlRenderer {
  private state = plain();
  private held = "";
  private readonly decoder = new TextDecoder("utf-8");

  /** HTML for bytes; whatever could be the start of a sequence or character waits for the next piece. */
  push(bytes: Uint8Array): string {
    return this.render(this.decoder.decode(bytes, { stream: true }), false);
  }

  /** HTML for whatever is still held back. */
  end(): string {
    return this.render(this.decoder.decode(), true);
  }

  private render(input: string, final: boolean): string {
    let text = this.held + input;
    this.held = "";
    if (!final) {
      const esc = text.lastIndexOf(ESC);
      if (esc >= 0 && text.length - esc < 64 && !COMPLETE.test(text.slice(esc))) {
        this.held = text.slice(esc);
        text = text.slice(0, esc);
      } else if (text.endsWith("\r")) {
        this.held = "\r";
        text = text.slice(0, -1);
      }
    }
    let html = "";
    let last = 0;
    SEQUENCE.lastIndex = 0;
    for (let match = SEQUENCE.exec(text); match !== null; match = SEQUENCE.exec(text)) {
      html += span(this.state, text.slice(last, match.index));
      last = SEQUENCE.lastIndex;
      if (match[0].startsWith("\r")) html += "\n";
      else if (match[2] === "m") this.state = applySgr(this.state, match[1] ?? "");
    }
    return html + span(this.state, text.slice(last));
  }
}
