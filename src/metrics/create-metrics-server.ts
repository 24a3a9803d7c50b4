import { createServer, type Server } from 'node:http';
import type { Metrics } from './create-metrics.ts';

export interface MetricsServer {
  /** The port actually bound (useful with port 0). */
  readonly port: number;
  readonly server: Server;
  close(): Promise<void>;
}

/**
 * Serves `GET /metrics` on its own port (`METRICS_PORT`, GitLab's 8082), like AI-assist: scrapes never queue
 * behind API traffic and the port need not be exposed publicly. Everything else is 404.
 */
export async function createMetricsServer(metrics: Metrics, port: number, host = '127.0.0.1'): Promise<MetricsServer> {
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path !== '/metrics' || (request.method !== 'GET' && request.method !== 'HEAD')) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found');
      return;
    }
    metrics.registry.metrics().then(
      (text) => {
        response.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text);
      },
      (error: unknown) => {
        response.writeHead(500, { 'content-type': 'text/plain' }).end(String(error));
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
