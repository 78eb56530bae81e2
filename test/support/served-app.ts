// The app served by `spin up` from a throw-away application directory (./app-dir): the real
// spin.toml and .wasm, its own `.spin/` state.
import { type AppDir, makeAppDir } from './app-dir';
import { type RunningApp, type StartOptions, startApp } from './host';

export interface ServedApp {
  app: AppDir;
  server: RunningApp;
  get(path: string, init?: RequestInit): Promise<Response>;
  /** Stops Spin and removes the directory. */
  stop(): Promise<void>;
}

/**
 * Serves the app with `args` after `-f <manifest>`. `configure` may write files into the
 * directory first and return more arguments (e.g. a runtime config).
 */
export async function serveApp(
  options: StartOptions & { configure?: (app: AppDir) => string[] } = {},
): Promise<ServedApp> {
  const { configure, args = [], ...start } = options;
  const app = makeAppDir();
  try {
    const extra = configure?.(app) ?? [];
    const server = await startApp({ cwd: app.dir, ...start, args: ['-f', app.manifest, ...extra, ...args] });
    return {
      app,
      server,
      get: (path, init) => fetch(`${server.baseUrl}${path}`, init),
      stop: async () => {
        await server.stop();
        app.remove();
      },
    };
  } catch (error) {
    app.remove();
    throw error;
  }
}
