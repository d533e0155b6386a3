/**
 * The browser build's stream-inflate.ts (tsup.config.ts puts it in place): the browser build refuses
 * `receive: "stream"` (platform-browser.ts), so no streamed message is ever inflated there.
 */

/** Never constructed in a browser: throws if it were. */
export class StreamInflater {
  constructor(_onData: (bytes: Uint8Array) => void, _onError: (error: Error) => void) {
    throw new TypeError('receive: "stream" is not available in a browser');
  }
  write(_bytes: Uint8Array): boolean {
    return false;
  }
  onDrain(_callback: () => void): void {}
  endMessage(_callback: () => void): void {}
  pause(): void {}
  resume(): void {}
  destroy(): void {}
}
