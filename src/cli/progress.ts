// Loading progress: one updating line on stderr when it is a terminal, nothing otherwise.
import cliProgress from 'cli-progress';

export interface Progress {
  onProgress?: (loaded: number, total: number) => void;
  /** Removes the line. */
  stop(): void;
}

export function loadingProgress(label: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY) return { stop() {} };
  const bar = new cliProgress.SingleBar({
    stream,
    format: `${label} [{bar}] {percentage}% {value}/{total} MiB`,
    clearOnComplete: true,
    hideCursor: true,
    barsize: 30,
  }, cliProgress.Presets.shades_classic);
  let started = false;
  const mib = (b: number) => Math.round(b / 2 ** 20);
  return {
    onProgress(loaded, total) {
      if (!started) { bar.start(Math.max(mib(total), 1), 0); started = true; }
      bar.setTotal(Math.max(mib(total), 1));
      bar.update(mib(loaded));
    },
    stop() { if (started) bar.stop(); },
  };
}
