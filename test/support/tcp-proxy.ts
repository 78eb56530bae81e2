/**
 * A loopback TCP proxy in front of a real server, for faults a process signal cannot produce.
 *
 *     const proxy = await startTcpProxy(redis.port);
 *     proxy.port                 // point the client here instead of at the server
 *     proxy.blackhole()          // accept connections, but forward nothing on any of them, old or new:
 *                                // a firewall or NAT that silently drops packets
 *     proxy.blackholeOn('GET')   // forward until a client sends bytes containing this text, then
 *                                // drop that chunk and go silent on that connection
 *     proxy.cut()                // reset every open connection: the client gets an I/O error at once
 *     proxy.forward()            // forward again (on connections accepted from now on)
 *     await proxy.close()
 *
 * A silenced connection stays open; whatever arrives on it from either side is read and thrown
 * away, so neither side sees an answer or an error until `cut()` or `close()`.
 */
import net from 'node:net';

export interface TcpProxy {
  readonly port: number;
  /** connections currently open on the client side */
  connections(): number;
  blackhole(): void;
  blackholeOn(text: string): void;
  forward(): void;
  cut(): void;
  close(): Promise<void>;
}

interface Pair {
  client: net.Socket;
  server: net.Socket | null;
  silent: boolean;
}

export async function startTcpProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  const pairs = new Set<Pair>();
  let silentForNew = false;
  let trigger: Buffer | null = null;

  const reset = (pair: Pair) => {
    pairs.delete(pair);
    pair.client.resetAndDestroy();
    pair.server?.resetAndDestroy();
  };

  const listener = net.createServer((client) => {
    const pair: Pair = { client, server: null, silent: silentForNew };
    pairs.add(pair);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      pair.server?.destroy();
    };
    client.on('error', drop);
    client.on('close', drop);
    if (pair.silent) {
      client.on('data', () => {});
      return;
    }
    const server = net.connect(targetPort, targetHost);
    pair.server = server;
    server.on('error', drop);
    server.on('close', drop);
    client.on('data', (chunk: Buffer) => {
      if (!pair.silent && trigger && chunk.includes(trigger)) pair.silent = true;
      if (!pair.silent) server.write(chunk);
    });
    server.on('data', (chunk: Buffer) => {
      if (!pair.silent) client.write(chunk);
    });
  });

  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(0, '127.0.0.1', () => resolve());
  });
  const address = listener.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  return {
    port,
    connections: () => pairs.size,
    blackhole: () => {
      silentForNew = true;
      for (const pair of pairs) pair.silent = true;
    },
    blackholeOn: (text) => {
      trigger = Buffer.from(text);
    },
    forward: () => {
      silentForNew = false;
      trigger = null;
    },
    cut: () => {
      for (const pair of [...pairs]) reset(pair);
    },
    close: async () => {
      for (const pair of [...pairs]) reset(pair);
      await new Promise<void>((resolve) => listener.close(() => resolve()));
    },
  };
}
