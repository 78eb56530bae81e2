// Grows the component's linear memory once, while it is pre-initialized at build time, so that
// requests have room to read large store values without growing it again.
//
// Why: componentize-js 0.11.4 hands its import bindings a `memory.buffer` that is rebuilt
// whenever linear memory has grown since the previous access, and the rebuild re-registers a
// GC root that is already registered; SpiderMonkey's MOZ_RELEASE_ASSERT(!isInList()) then
// executes `unreachable`. So, once a request has made one store call, any growth of memory
// before its next store or variable call kills the request (fixed upstream in 0.17.0,
// "Fix componentize::GetMemBuffer (#184)"). Reading a value of N bytes allocates it twice
// (the host's copy and the binding's slice), so a large value grew memory inside `get` and the
// `set` that should replace it trapped, leaving the bad value in place for every request after.
//
// The buffer below is garbage as soon as this module has run; the engine's full GC at the end
// of pre-initialization frees it back to the allocator, and the snapshot keeps the grown memory.
// Its pages are never written, so the component file does not grow and a request that does not
// use the room does not touch it.

/** Free heap every request starts with; values up to about half of it are read without growth. */
export const HEAP_RESERVE_BYTES = 64 * 1024 * 1024;

new ArrayBuffer(HEAP_RESERVE_BYTES);
