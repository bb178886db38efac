// A verifying wrapper around hls.js's own network loader.
//
// p2p-media-loader checks what it downloads through its validation hooks,
// but hls.js fetches some segments with its default loader (config.loader):
// init segments (EXT-X-MAP, never handed to p2p-media-loader) and any media
// segment p2p-media-loader declines. This wrapper makes those pass the same
// check before hls.js sees a byte: success is reported only after the bytes
// match their signed record, otherwise hls.js gets a load error and retries.
// Playlists and anything else that is not a fragment pass straight through.

/**
 * @param {any} Base hls.js loader class (Hls.DefaultConfig.loader)
 * @param {import("./verifier.js").SegmentVerifier} verifier
 * @param {(bytes: number) => void} onBytes counts the HTTP bytes received (checked or not,
 *   as p2p-media-loader's onChunkDownloaded does)
 */
export function verifyingLoader(Base, verifier, onBytes) {
  return class VerifyingLoader extends Base {
    load(context, config, callbacks) {
      this.canopyStopped = false;
      // Fragment contexts carry .frag; key requests (unused by Canopy) too,
      // with .keyInfo, and go through unchecked like playlists.
      if (!context.frag || context.keyInfo) return super.load(context, config, callbacks);
      const { onProgress, onSuccess, onError } = callbacks;
      if (verifier.mustRefetch(context.url)) {
        // hls.js's XHR loader sends context.headers; Chromium and Firefox
        // skip their HTTP cache for "Cache-Control: no-cache" requests.
        context.headers = { ...context.headers, "Cache-Control": "no-cache" };
      }
      super.load(context, config, {
        ...callbacks,
        // Data handed out early would reach the transmuxer before the check.
        onProgress: undefined,
        onSuccess: (response, stats, ctx, details) => {
          const data = response.data;
          if (!(data instanceof ArrayBuffer)) {
            onError({ code: 0, text: "segment response is not binary" }, ctx, details, stats);
            return;
          }
          onBytes(data.byteLength);
          verifier.verify(ctx.url, data, { source: "http", recordJson: recordHeader(details) }).then(
            (verdict) => {
              if (this.canopyStopped) return;
              if (!verdict.ok) {
                onError({ code: 0, text: `segment failed verification (${verdict.reason})` }, ctx, details, stats);
                return;
              }
              onProgress?.(stats, ctx, data, details);
              onSuccess(response, stats, ctx, details);
            },
            (err) => {
              if (!this.canopyStopped) onError({ code: 0, text: `segment check failed: ${err}` }, ctx, details, stats);
            },
          );
        },
      });
    }

    abort() {
      this.canopyStopped = true;
      super.abort();
    }

    destroy() {
      this.canopyStopped = true;
      super.destroy();
    }
  };
}

/** The record the origin or a node attached to the response, if readable. */
function recordHeader(details) {
  try {
    const h = details?.getResponseHeader?.("Canopy-Record") ?? details?.headers?.get?.("Canopy-Record");
    return h ? JSON.parse(h) : undefined;
  } catch {
    return undefined;
  }
}
