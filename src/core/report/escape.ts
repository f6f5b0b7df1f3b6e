// Text into HTML: the one escape helper of every page QAT Lens writes (reports, panel shell).

/** Escapes the five characters that can end text or an attribute value early. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON inside <script>: no "</script>" or "<!--" can end the element early. */
export function scriptJson(x: unknown): string {
  return JSON.stringify(x)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}
