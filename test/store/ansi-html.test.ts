import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { AnsiHtmlRenderer, escapeHtml } from "../../src/store/ansi-html.js";

function render(...pieces: (string | Buffer)[]): string {
  const renderer = new AnsiHtmlRenderer();
  return pieces.map((piece) => renderer.push(Buffer.from(piece))).join("") + renderer.end();
}

describe("ANSI to HTML", () => {
  test("text is escaped, markup never passes", () => {
    assert.equal(
      render(`<img src=x onerror="alert(1)"> & 'q'`),
      "&#60;img src=x onerror=&#34;alert(1)&#34;&#62; &#38; &#39;q&#39;",
    );
    assert.equal(escapeHtml("a<b"), "a&#60;b");
  });

  test("SGR colours and attributes become the viewer's classes, and reset ends them", () => {
    assert.equal(
      render("\u001b[1;31mred bold\u001b[0m plain \u001b[92;44mbright\u001b[39;49m x"),
      '<span class="b f1">red bold</span> plain <span class="f10 g4">bright</span> x',
    );
    assert.equal(render("\u001b[3;4mx\u001b[23;24my"), '<span class="i u">x</span>y');
    assert.equal(render("\u001b[7mx"), '<span class="f0 g7">x</span>', "inverse of the defaults");
  });

  test("256 colours and true colour become inline styles built from numbers only", () => {
    assert.equal(render("\u001b[38;5;196mx"), '<span class="" style="color:rgb(255,0,0)">x</span>');
    assert.equal(render("\u001b[38;5;3mx"), '<span class="f3">x</span>');
    assert.equal(
      render("\u001b[48;2;1;2;999mx"),
      '<span class="" style="background-color:rgb(1,2,255)">x</span>',
    );
  });

  test("a sequence or a character cut between pieces still renders whole", () => {
    const euro = Buffer.from("€");
    assert.equal(
      render("a \u001b[3", "2mgreen\u001b[0m ", euro.subarray(0, 1), euro.subarray(1)),
      'a <span class="f2">green</span> €',
    );
  });

  test("CR LF and lone CR become newlines; other escapes and controls disappear", () => {
    assert.equal(render("a\r\nb\r", "\nc\rd"), "a\nb\nc\nd");
    assert.equal(render("x\u001b[2Ky\u001b]0;title\u0007z\u0008\u0000!\tend"), "xyz!\tend");
  });
});
