import { spawn } from 'node:child_process';
import { Readable } from 'node:stream';
import { Hono } from 'hono';

/** What a Git smart-HTTP request may name: a feature's repository and one of the protocol's paths. */
const GIT_PATH = /^\/[A-Za-z0-9][A-Za-z0-9_.-]*\.git\/(info\/refs|git-upload-pack|git-receive-pack)$/;

/**
 * The feature workspaces as Git remotes over HTTP (`/git/<feature>.git`), so
 * agents in pods clone and push them as local agents do: `git http-backend`
 * (Git's own smart-HTTP server, as a CGI program) answers each request, with
 * the workspaces directory as its only root.
 */
export function gitHttp(workspaces: string): Hono {
  return new Hono().all('/*', async (c) => {
    const path = c.req.path.replace(/^\/git/, '');
    if (!GIT_PATH.test(path)) return c.json({ error: `not a workspace path: ${c.req.path}` }, 404);
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      GIT_PROJECT_ROOT: workspaces,
      GIT_HTTP_EXPORT_ALL: '1',
      // Agents push their steps' commits; who may do so is the API's to check (issue: security), not Git's.
      REMOTE_USER: 'vapora-agent',
      REQUEST_METHOD: c.req.method,
      PATH_INFO: path,
      QUERY_STRING: new URL(c.req.url).search.slice(1),
      CONTENT_TYPE: c.req.header('content-type') ?? '',
      HTTP_CONTENT_ENCODING: c.req.header('content-encoding') ?? '',
      HTTP_GIT_PROTOCOL: c.req.header('git-protocol') ?? '',
    };
    const child = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'ignore'] });
    const body = c.req.raw.body;
    if (body) Readable.fromWeb(body as never).pipe(child.stdin);
    else child.stdin.end();
    return cgiResponse(child.stdout);
  });
}

/** Reads a CGI program's headers (up to the blank line), then streams the rest as the response body. */
function cgiResponse(stdout: Readable): Promise<Response> {
  return new Promise((resolve, reject) => {
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const blank = /\r?\n\r?\n/.exec(head.toString('latin1'));
      if (!blank) return;
      stdout.off('data', onData);
      stdout.pause();
      const headers = new Headers();
      let status = 200;
      for (const line of head.subarray(0, blank.index).toString().split(/\r?\n/)) {
        const colon = line.indexOf(':');
        const [name, value] = [line.slice(0, colon).trim(), line.slice(colon + 1).trim()];
        if (name.toLowerCase() === 'status') status = Number(value.split(' ')[0]);
        else headers.append(name, value);
      }
      const rest = head.subarray(blank.index + blank[0].length);
      if (rest.length) stdout.unshift(rest);
      resolve(new Response(Readable.toWeb(stdout) as ReadableStream<Uint8Array>, { status, headers }));
    };
    stdout.on('data', onData);
    stdout.once('end', () => resolve(new Response('git http-backend answered nothing', { status: 502 })));
    stdout.once('error', reject);
  });
}
