import { AutoRouter } from 'itty-router';
import { Kv } from '@fermyon/spin-sdk';

interface FetchEvent extends Event { request: Request; respondWith(r: Response | Promise<Response>): void }
const router = AutoRouter();
router.get('/items', () => {
  const store = Kv.openDefault();
  const v = store.get('x');
  return new Response(JSON.stringify({ v: v ? new TextDecoder().decode(v) : null }), { headers: { 'content-type': 'application/json' } });
});

addEventListener('fetch', (event) => {
  const e = event as FetchEvent;
  e.respondWith(router.fetch(e.request));
});
