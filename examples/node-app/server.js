// The tutorial's app: answers every request with the hostname of the container it runs in
// (a container's hostname is its short ID unless --hostname says otherwise).
const http = require("node:http");
const os = require("node:os");

const port = Number(process.env.PORT) || 3000;
let requests = 0;

const server = http.createServer((req, res) => {
  requests += 1;
  console.log(`${new Date().toISOString()} ${req.method} ${req.url}`);
  res.writeHead(200, { "Content-Type": "text/plain; charset=utf-8" });
  res.end(`Hello from ${os.hostname()} (request ${requests}, Node.js ${process.version})\n`);
});

server.listen(port, () => {
  console.log(`my-node-app listening on port ${port} in container ${os.hostname()}`);
});

// `docker stop` sends SIGTERM: finish quickly instead of waiting to be killed.
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => {
    console.log(`${signal}: shutting down`);
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
