// Grows the component's linear memory once, while it is pre-initialized at build time, so that
// requests have room to read large store values without growing it again.
//
// Why: componentize-js 0.11.4 hands its import bindings a `memory.buffer` that is rebuilt
// whenever linear memory has grown since the previous access, and the rebuild registers a GC
// root that is already registered; SpiderMonkey's MOZ_RELEASE_ASSERT(!listElem->isInList())
// then executes `unreachable`. So once a request has made one store or variable call, any
// growth of memory before its next such call kills the request (fixed upstream in 0.17.0,
// "Fix componentize::GetMemBuffer (#184)"). Reading a value of N bytes allocates it twice (the
// host's copy and the binding's slice), so a large value grew memory inside `get`, and the
// `set` that should have replaced it trapped, leaving the value in place for every request after.
//
// The buffer below is garbage as soon as this module has run; the engine's full GC at the end
// of pre-initialization frees it back to the allocator, and the snapshot keeps the grown memory.
// Its pages stay zero, so the component file does not grow.
//
// Why not more: Wasmtime (Spin) instantiates from a copy-on-write memory image only while the
// initialized part of memory spans at most 16 MiB (`memory_guaranteed_dense_image_size`) or is
// at least half data, and the allocator always writes a few bytes at the very end of memory.
// With 8.5 MiB the memory is 249 pages (15.6 MiB) and a hit costs what it did without the
// reserve; with 24 or 64 MiB every request paid ~2 ms more on Spin 4.0.2 for copying the data
// segments. test/build/heap-reserve.test.ts keeps the memory under 16 MiB.

/**
 * Free heap every request starts with. Values up to 4,489,164 bytes under the cache key are read
 * and replaced (measured on Spin 4.0.2, SQLite and Redis alike); larger ones still trap.
 */
export const HEAP_RESERVE_BYTES = 8.5 * 1024 * 1024;

new ArrayBuffer(HEAP_RESERVE_BYTES);
