/** A live-stream client: reads `event: trace` frames over fetch and keeps every item's id. */
export interface TraceStream {
  readonly ids: Set<string>;
  /** Resolves once the stream has sent its first ping (it is open and subscribed). */
  readonly open: Promise<void>;
  close(): Promise<void>;
}

export function readTraceStream(url: string): TraceStream {
  const ids = new Set<string>();
  const controller = new AbortController();
  let opened: () => void = () => {};
  const open = new Promise<void>((resolve) => {
    opened = resolve;
  });
  const done = (async () => {
    const response = await fetch(url, { signal: controller.signal });
    if (response.status !== 200 || response.body === null) throw new Error(`live stream: HTTP ${response.status}`);
    const decoder = new TextDecoder();
    let text = '';
    try {
      for await (const chunk of response.body) {
        text += decoder.decode(chunk, { stream: true });
        let end = text.indexOf('\n\n');
        while (end >= 0) {
          const frame = text.slice(0, end);
          text = text.slice(end + 2);
          if (frame.startsWith('event: ping')) opened();
          else if (frame.startsWith('event: trace')) {
            const data = frame.slice(frame.indexOf('data: ') + 6);
            for (const item of JSON.parse(data) as { id: string }[]) ids.add(item.id);
          }
          end = text.indexOf('\n\n');
        }
      }
    } catch (error) {
      if (!controller.signal.aborted) throw error;
    }
  })();
  return {
    ids,
    open,
    async close() {
      controller.abort();
      await done;
    },
  };
}
