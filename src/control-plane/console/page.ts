import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';

export type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

const SECTIONS = [
  ['/', 'Fleet'],
  ['/marketplace', 'Marketplace'],
  ['/features', 'Features'],
  ['/events', 'Events'],
] as const;

export interface PageParts {
  title: string;
  /** The nav entry this page belongs to. */
  section: (typeof SECTIONS)[number][0];
  body: Html;
  /** Whether the operator's token came with the request: the forms that change things are shown then. */
  signedIn: boolean;
  webUi: string;
  notice?: string;
  error?: string;
}

/**
 * The console's pages: server-rendered HTML (escaped by `html`), htmx for
 * forms that update in place and the SSE extension for live fragments pushed
 * from NATS. Every asset is served by the control plane; nothing from a CDN.
 */
export function page({ title, section, body, signedIn, webUi, notice, error }: PageParts): Html {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} · Vapora</title>
        <link rel="stylesheet" href="/console/assets/console.css" />
        <script src="/console/assets/htmx.min.js" defer></script>
        <script src="/console/assets/sse.js" defer></script>
      </head>
      <body>
        <a class="skip" href="#main">Skip to content</a>
        <header>
          <nav aria-label="Sections">
            <span class="brand">Vapora</span>
            <ul>
              ${SECTIONS.map(
                ([href, name]) =>
                  html`<li><a href="${href}" ${section === href ? html`aria-current="page"` : ''}>${name}</a></li>`,
              )}
            </ul>
            <span class="session">
              <a href="${webUi}">Temporal Web UI</a>
              ${
                signedIn
                  ? html`<form method="post" action="/logout"><button class="link">Sign out</button></form>`
                  : html`<a href="/login">Sign in</a>`
              }
            </span>
          </nav>
        </header>
        <main id="main">
          <h1>${title}</h1>
          ${notice ? html`<p class="notice" role="status">${notice}</p>` : ''}
          ${error ? html`<p class="error" role="alert">${error}</p>` : ''} ${body}
        </main>
      </body>
    </html>`;
}

/** A small line chart of values in 0..1 (a role's load over the last minutes), drawn inline. */
export function sparkline(values: number[], label: string): Html {
  const width = 120;
  const height = 24;
  if (values.length < 2) return html`<span class="muted">collecting…</span>`;
  const step = width / (values.length - 1);
  const points = values
    .map((v, i) => `${(i * step).toFixed(1)},${(height - Math.min(1, Math.max(0, v)) * height).toFixed(1)}`)
    .join(' ');
  return html`<svg class="spark" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img">
    <title>${label}</title>
    <polyline points="${points}" fill="none" stroke="currentColor" stroke-width="1.5" />
  </svg>`;
}

export const ago = (iso: string | undefined, now = Date.now()) => {
  if (!iso) return '-';
  const secs = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  return secs < 90
    ? `${secs}s ago`
    : secs < 5400
      ? `${Math.round(secs / 60)} min ago`
      : `${Math.round(secs / 3600)} h ago`;
};

export const usd = (n: number) => `$${n.toFixed(4)}`;
