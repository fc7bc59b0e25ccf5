// zxing.mjs reads barcodes with ZXing-C++ (npm zxing-wasm) from each image
// named on the command line and prints one JSON line per image:
//
//   {"file": "...", "texts": ["..."], "ms": 12.3, "timeout": false}
//
// ms is the time of the readBarcodes call alone (the image file is read
// before the clock starts; WebAssembly start-up is excluded). Each image is
// read in a worker thread that is terminated when it takes longer than
// --timeout-ms (default 10000), so one image cannot stall the run.
//
//   node bench/peers/zxing.mjs [--timeout-ms N] FILE...
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { Worker, isMainThread, parentPort } from "node:worker_threads";

const require = createRequire(import.meta.url);

if (isMainThread) {
  await main(process.argv.slice(2));
} else {
  await serve();
}

async function main(args) {
  let timeoutMs = 10000;
  if (args[0] === "--timeout-ms") {
    timeoutMs = Number(args[1]);
    args = args.slice(2);
  }
  let worker = await startWorker();
  for (const file of args) {
    const bytes = readFileSync(file);
    let timer;
    const res = await Promise.race([
      ask(worker, bytes),
      new Promise((resolve) => (timer = setTimeout(() => resolve(null), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (res === null) {
      await worker.terminate();
      worker = await startWorker();
      console.log(JSON.stringify({ file, texts: [], ms: timeoutMs, timeout: true }));
      continue;
    }
    console.log(JSON.stringify({ file, texts: res.texts, ms: res.ms, timeout: false, error: res.error }));
  }
  await worker.terminate();
}

// startWorker starts a reader and waits until its WebAssembly is ready.
async function startWorker() {
  const w = new Worker(new URL(import.meta.url));
  await new Promise((resolve, reject) => {
    w.once("message", resolve);
    w.once("error", reject);
  });
  return w;
}

function ask(worker, bytes) {
  return new Promise((resolve) => {
    worker.once("message", resolve);
    worker.postMessage(bytes, [bytes.buffer]);
  });
}

// serve runs in the worker: load the module once, then read images sent to it.
async function serve() {
  const { prepareZXingModule, readBarcodes } = await import("zxing-wasm/reader");
  const wasm = readFileSync(require.resolve("zxing-wasm/reader/zxing_reader.wasm"));
  await prepareZXingModule({
    overrides: { wasmBinary: wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength) },
    fireImmediately: true,
  });
  parentPort.postMessage("ready");
  parentPort.on("message", async (bytes) => {
    const blob = new Blob([bytes]);
    const start = performance.now();
    try {
      const results = await readBarcodes(blob, { tryHarder: true, maxNumberOfSymbols: 16 });
      const ms = performance.now() - start;
      parentPort.postMessage({ texts: results.filter((r) => r.isValid).map((r) => r.text), ms });
    } catch (e) {
      parentPort.postMessage({ texts: [], ms: performance.now() - start, error: String(e) });
    }
  });
}
