// SPDX-License-Identifier: MIT
// markdown.js — Markdown to DOM, safe by construction: every piece of text becomes a text
// node, links keep only http(s) and mailto targets, and HTML in the source stays visible text.
// Covers what assistants write: paragraphs, headings, lists, quotes, rules, fenced code,
// tables, inline code, bold, italic, strike-through and links. A fenced block whose language
// is a "special" one (```openclaw-viz) is handed to specials[lang](text) instead.
import { h } from "./dom.js";

const INLINE = new RegExp([
  "(`+)([\\s\\S]*?[^`])\\1(?!`)",
  "\\*\\*([\\s\\S]+?)\\*\\*",
  "(?<!\\w)__(\\S[\\s\\S]*?)__(?!\\w)",
  "~~([\\s\\S]+?)~~",
  "\\*([^*\\s][^*]*?)\\*",
  "(?<!\\w)_([^_\\s][^_]*?)_(?!\\w)",
  "\\[([^\\]]+)\\]\\(([^()\\s]+)\\)",
].join("|"));

function safeHref(url) {
  try {
    const u = new URL(url, document.baseURI);
    return ["http:", "https:", "mailto:"].includes(u.protocol) ? u.href : null;
  } catch {
    return null;
  }
}

export function inline(text) {
  const out = [];
  let rest = text;
  while (rest) {
    const m = INLINE.exec(rest);
    if (!m) {
      out.push(...breaks(rest));
      break;
    }
    if (m.index) out.push(...breaks(rest.slice(0, m.index)));
    if (m[1]) out.push(h("code", null, m[2].trim() ? m[2] : m[2]));
    else if (m[3] || m[4]) out.push(h("strong", null, inline(m[3] || m[4])));
    else if (m[5]) out.push(h("del", null, inline(m[5])));
    else if (m[6] || m[7]) out.push(h("em", null, inline(m[6] || m[7])));
    else {
      const href = safeHref(m[9]);
      out.push(href ? h("a", { href, rel: "noopener noreferrer nofollow", target: "_blank" },
                        inline(m[8]))
                    : m[0]);
    }
    rest = rest.slice(m.index + m[0].length);
  }
  return out;
}

const breaks = (t) => t.split("\n").flatMap((part, i) => (i ? [h("br"), part] : [part]));

const cells = (line) => line.trim().replace(/^\|/, "").replace(/\|$/, "").split("|")
  .map((c) => c.trim());
const isTableSep = (line) => /^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$/.test(line);

/** Renders markdown text into a DocumentFragment. */
export function markdown(src, specials = {}) {
  const lines = String(src).replace(/\r\n?/g, "\n").split("\n");
  const frag = document.createDocumentFragment();
  let i = 0;
  const para = [];
  const flush = () => {
    if (para.length) frag.append(h("p", null, inline(para.join("\n"))));
    para.length = 0;
  };
  while (i < lines.length) {
    const line = lines[i];
    let m;
    if ((m = /^(\s*)(`{3,}|~{3,})\s*([\w.+-]*)/.exec(line))) {
      flush();
      const fence = m[2], lang = m[3];
      const body = [];
      for (i++; i < lines.length && !lines[i].trimStart().startsWith(fence); i++)
        body.push(lines[i]);
      const closed = i < lines.length;
      i++;
      const text = body.join("\n");
      if (specials[lang]) frag.append(specials[lang](text, closed));
      else frag.append(h("pre", { class: "code", tabindex: "0" },
                         h("code", lang ? { "data-lang": lang } : null, text)));
      continue;
    }
    if (!line.trim()) {
      flush();
      i++;
      continue;
    }
    if ((m = /^(#{1,6})\s+(.*)$/.exec(line))) {
      flush();
      frag.append(h("h" + Math.min(6, m[1].length + 2), null, inline(m[2].replace(/#+$/, ""))));
      i++;
      continue;
    }
    if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) {
      flush();
      frag.append(h("hr"));
      i++;
      continue;
    }
    if (line.includes("|") && i + 1 < lines.length && isTableSep(lines[i + 1])) {
      flush();
      const head = cells(line);
      const rows = [];
      for (i += 2; i < lines.length && lines[i].includes("|") && lines[i].trim(); i++)
        rows.push(cells(lines[i]));
      frag.append(h("div", { class: "table-wrap", tabindex: "0" }, h("table", null,
        h("thead", null, h("tr", null, head.map((c) => h("th", { scope: "col" }, inline(c))))),
        h("tbody", null, rows.map((r) => h("tr", null, head.map((_, j) =>
          h("td", null, inline(r[j] || "")))))))));
      continue;
    }
    if (/^\s*>/.test(line)) {
      flush();
      const quoted = [];
      for (; i < lines.length && /^\s*>/.test(lines[i]); i++)
        quoted.push(lines[i].replace(/^\s*>\s?/, ""));
      frag.append(h("blockquote", null, markdown(quoted.join("\n"), specials)));
      continue;
    }
    if ((m = /^\s*([-*+]|\d{1,9}[.)])\s+/.exec(line))) {
      flush();
      const ordered = /\d/.test(m[1]);
      const items = [];
      for (; i < lines.length; i++) {
        const im = /^\s*([-*+]|\d{1,9}[.)])\s+(.*)$/.exec(lines[i]);
        if (im && /\d/.test(im[1]) === ordered) items.push(im[2]);
        else if (items.length && /^\s{2,}\S/.test(lines[i])) items[items.length - 1] += "\n" +
                                                                          lines[i].trim();
        else break;
      }
      const start = ordered ? parseInt(m[1], 10) : null;
      frag.append(h(ordered ? "ol" : "ul", start > 1 ? { start } : null,
                    items.map((t) => h("li", null, inline(t)))));
      continue;
    }
    para.push(line);
    i++;
  }
  flush();
  return frag;
}
