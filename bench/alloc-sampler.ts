// `ALLOC_FROM_S=25 ALLOC_TO_S=34 node --import tsx --import ./bench/alloc-sampler.ts bench/run.ts --only platform --rounds 1`
//
// Preload: V8's sampling heap profiler over one window of a process's life (seconds after it
// starts), counting every allocation, including the objects the garbage collector has already
// freed when the window ends. `node --heap-prof` keeps only what is still alive, which says
// nothing about the garbage a stage leaves behind. Writes ALLOC_OUT (default
// ./alloc.heapprofile); `bench/alloc-profile-top.ts` reads it.
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';

const from = Number(process.env.ALLOC_FROM_S ?? 10) * 1000;
const to = Number(process.env.ALLOC_TO_S ?? 20) * 1000;
const out = process.env.ALLOC_OUT ?? 'alloc.heapprofile';
const session = new Session();
session.connect();

// unref: the window never keeps a finished process alive (end it before the process ends).
setTimeout(() => {
  void session
    .post('HeapProfiler.startSampling', {
      samplingInterval: 8192,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    })
    .then(() => {
      console.error(`[alloc] sampling from ${from / 1000} s`);
      setTimeout(() => {
        void session.post('HeapProfiler.stopSampling').then(({ profile }) => {
          writeFileSync(out, JSON.stringify(profile));
          console.error(`[alloc] ${out} written at ${to / 1000} s`);
        });
      }, to - from).unref();
    });
}, from).unref();
