import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker, Runtime, DefaultLogger } from '@temporalio/worker';
import { startTemporalDevServer } from '../../src/stack/temporal-dev-server';
import { freePort } from '../../src/stack/ports';
import { latencies } from './stats';
Runtime.install({ logger: new DefaultLogger('WARN') });
const extra = process.argv.slice(2);
const port = await freePort();
const { startUntilReady } = await import('../../src/stack/supervised-process');
const server = await startUntilReady({ name: 'temporal', command: process.env.HOME + '/.cache/vapora/bin/temporal', args: ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--headless', '--log-level', 'warn', ...extra], logFile: '/tmp/exp/t.log' }, 'temporal', async () => { try { const c = await Connection.connect({ address: `127.0.0.1:${port}` }); await c.workflowService.describeNamespace({ namespace: 'default' }); await c.close(); return true; } catch { return false; } }, 60000);
const arrivals = new Map<string, (t: number) => void>();
const connection = await NativeConnection.connect({ address: `127.0.0.1:${port}` });
const worker = await Worker.create({ connection, taskQueue: 'q', workflowsPath: fileURLToPath(new URL('./baseline-workflow.ts', import.meta.url)), activities: { noop: async (id: string) => arrivals.get(id)?.(performance.now()) }, ...(process.env.WOPTS ? JSON.parse(process.env.WOPTS) : {}) });
const running = worker.run();
const client = new Client({ connection: await Connection.connect({ address: `127.0.0.1:${port}` }) });
const ms: number[] = [];
const st: number[] = [];
const began = performance.now();
for (let i = 0; i < 150; i++) {
  const id = `w${i}`;
  const p = new Promise<number>((r) => arrivals.set(id, r));
  const t0 = performance.now();
  await client.workflow.start('baselineWorkflow', { taskQueue: 'q', workflowId: id, args: [id] });
  const ts = performance.now();
  const t1 = await p;
  if (i >= 20) { ms.push(t1 - t0); st.push(ts - t0); }
}
const ex: number[] = [];
for (let i = 0; i < 60; i++) { const t0 = performance.now(); await client.workflow.execute('emptyWorkflow', { taskQueue: 'q', workflowId: 'e' + i, args: [] }); if (i >= 10) ex.push(performance.now() - t0); }
console.log('empty execute', latencies(ex, 1));
const h = await client.workflow.start('waitingWorkflow', { taskQueue: 'q', workflowId: 'wait', args: [] });
const qs: number[] = []; const us: number[] = [];
for (let i = 0; i < 60; i++) { const t0 = performance.now(); await h.query('q'); if (i >= 10) qs.push(performance.now() - t0); }
for (let i = 0; i < 60; i++) { const t0 = performance.now(); await h.executeUpdate('u'); if (i >= 10) us.push(performance.now() - t0); }
const uws: number[] = [];
const { WithStartWorkflowOperation } = await import('@temporalio/client');
for (let i = 0; i < 60; i++) { const t0 = performance.now(); await client.workflow.executeUpdateWithStart('u', { startWorkflowOperation: new WithStartWorkflowOperation('waitingWorkflow', { taskQueue: 'q', workflowId: 'wait', args: [], workflowIdConflictPolicy: 'USE_EXISTING' }) }); if (i >= 10) uws.push(performance.now() - t0); }
console.log('update-with-start (existing)', latencies(uws, 1));
console.log('query', latencies(qs, 1)); console.log('update', latencies(us, 1));
console.log(extra.join(' ') || 'default', latencies(ms, performance.now() - began), 'start call', latencies(st, 1));
worker.shutdown(); await running; await server.stop(); process.exit(0);
