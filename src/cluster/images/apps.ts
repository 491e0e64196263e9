// Simple web images: nginx's welcome page, node-hello, and a generic
// responder for any other image with declared TCP containerPorts.

import type { Netns } from '../../kernel/api.ts';
import type { Sim } from '../../sim/sim.ts';
import { httpDate, serveHttp } from './http_server.ts';
import { libuvIo, nginxIo } from './app_io.ts';

export const NGINX_VERSION = '1.27.2';
export const NGINX_WELCOME = `<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto;
font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. Further configuration is required.</p>

<p>For online documentation and support please refer to
<a href="http://nginx.org/">nginx.org</a>.<br/>
Commercial support is available at
<a href="http://nginx.com/">nginx.com</a>.</p>

<p><em>Thank you for using nginx.</em></p>
</body>
</html>
`;

export function startNginx(netns: Netns, sim: Sim, port = 80, confined = false): { close(): void } {
  return serveHttp(netns, port, (req) => {
    const path = (req.path ?? '/').split('?')[0];
    if (path !== '/' && path !== '/index.html') {
      const body = `<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx/${NGINX_VERSION}</center>\r\n</body>\r\n</html>\r\n`;
      return { status: 404, reason: 'Not Found', headers: [['Server', `nginx/${NGINX_VERSION}`], ['Date', httpDate(sim)], ['Content-Type', 'text/html'], ['Content-Length', String(body.length)], ['Connection', 'keep-alive']], body };
    }
    return { status: 200, reason: 'OK', body: NGINX_WELCOME, headers: [
      ['Server', `nginx/${NGINX_VERSION}`], ['Date', httpDate(sim)], ['Content-Type', 'text/html'], ['Content-Length', String(NGINX_WELCOME.length)],
      ['Last-Modified', 'Wed, 02 Oct 2024 15:13:19 GMT'], ['Connection', 'keep-alive'], ['ETag', '"66fd630f-267"'], ['Accept-Ranges', 'bytes']] };
  }, nginxIo(confined));
}

/** gcr.io/google-samples/node-hello: Node's http server answering "Hello Kubernetes!". */
export function startNodeHello(netns: Netns, sim: Sim, port = 8080, confined = false): { close(): void } {
  return serveHttp(netns, port, () => ({ status: 200, reason: 'OK', body: 'Hello Kubernetes!',
    headers: [['Date', httpDate(sim)], ['Connection', 'keep-alive'], ['Content-Length', '17']] }), libuvIo(confined));
}

/** Any other image: answer on each declared TCP port with the pod name (its runtime unknown: no AppArmor file checks modelled). */
export function startGeneric(netns: Netns, sim: Sim, podName: string, port: number): { close(): void } {
  return serveHttp(netns, port, () => {
    const body = `${podName}\n`;
    return { status: 200, reason: 'OK', body, headers: [['Date', httpDate(sim)], ['Content-Length', String(new TextEncoder().encode(body).length)], ['Content-Type', 'text/plain; charset=utf-8']] };
  });
}
