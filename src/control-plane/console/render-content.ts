import { extname } from 'node:path';
import hljs from 'highlight.js';
import { html, raw } from 'hono/html';
import { Marked } from 'marked';
import type { Html } from './page';

export const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * Markdown as HTML for what agents wrote (ADRs, reports): agents are not
 * trusted with markup, so raw HTML in the text is shown as text and only
 * http(s) and relative links are kept.
 */
const markdown = new Marked({
  gfm: true,
  renderer: {
    html: ({ text }) => escapeHtml(text),
    link({ href, text }) {
      return /^(https?:|\/|#)/.test(href) ? `<a href="${escapeHtml(href)}">${escapeHtml(text)}</a>` : escapeHtml(text);
    },
    image: ({ text }) => escapeHtml(text),
  },
});

export function renderMarkdown(text: string): Html {
  return html`<div class="prose">${raw(markdown.parse(text, { async: false }))}</div>`;
}

/** highlight.js language by file extension, for the lines of a diff. */
const LANGUAGES: Record<string, string> = {
  '.ts': 'typescript',
  '.tsx': 'typescript',
  '.js': 'javascript',
  '.mjs': 'javascript',
  '.json': 'json',
  '.md': 'markdown',
  '.py': 'python',
  '.go': 'go',
  '.rs': 'rust',
  '.yaml': 'yaml',
  '.yml': 'yaml',
  '.sh': 'bash',
  '.css': 'css',
  '.html': 'xml',
  '.sql': 'sql',
};

/** A unified diff, each line marked added, removed or context and its code highlighted by the file's language. */
export function renderDiff(diff: string): Html {
  let language: string | undefined;
  const lines = diff.split('\n').map((line) => {
    if (line.startsWith('diff --git ')) {
      language = LANGUAGES[extname(line.split(' b/').at(-1) ?? '')];
      return `<span class="d-file">${escapeHtml(line)}</span>`;
    }
    if (/^(index |--- |\+\+\+ |new file|deleted file|similarity|rename )/.test(line))
      return `<span class="d-meta">${escapeHtml(line)}</span>`;
    if (line.startsWith('@@')) return `<span class="d-hunk">${escapeHtml(line)}</span>`;
    const [mark, code] = [line.slice(0, 1), line.slice(1)];
    const kind = mark === '+' ? 'd-add' : mark === '-' ? 'd-del' : 'd-ctx';
    const body = language ? hljs.highlight(code, { language, ignoreIllegals: true }).value : escapeHtml(code);
    return `<span class="${kind}">${escapeHtml(mark)}${body}</span>`;
  });
  // Each line is a block of its own (its background spans the width), so no newline between them.
  return html`<pre class="diff" tabindex="0"><code>${raw(lines.join(''))}</code></pre>`;
}
