// Words for a job's life: the status bar, the queue notice and the log lines. Pure.

export function statusText(running: string, queued: number, message?: string): string {
  const q = queued ? ` (+${queued} queued)` : '';
  const m = message ? `: ${message.length > 40 ? `${message.slice(0, 39)}…` : message}` : '';
  return `$(sync~spin) QAT Lens: ${running}${m}${q}`;
}

export function queuedNotice(title: string, running: string, ahead: number): string {
  const others = ahead > 1 ? ` and ${ahead - 1} more queued job${ahead > 2 ? 's' : ''}` : '';
  return `QAT Lens: "${title}" is queued. It starts when "${running}"${others} finishes. Cancel from the status bar.`;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const m = Math.floor(ms / 60_000);
  return `${m} min ${Math.round((ms - m * 60_000) / 1000)} s`;
}

export function progressMessage(message: string, fraction?: number): string {
  return fraction !== undefined && Number.isFinite(fraction) ? `${message} (${Math.round(fraction * 100)}%)` : message;
}
