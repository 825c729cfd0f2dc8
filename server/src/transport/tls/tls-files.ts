// The listeners' certificate, key and client CA: loaded and checked at start, re-read when the
// files change (cert-manager rotation), and handed to the HTTPS and gRPC servers.
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import type { Logger } from '../../observability/logger.js';
import { FilePoller } from '../../service/auth/file-poller.js';

export interface TlsSettings {
  /** PEM certificate chain the listeners present. */
  readonly cert: string;
  /** PEM private key of `cert`. */
  readonly key: string;
  /** PEM CA bundle: when set, clients must present a certificate it signed (mutual TLS). */
  readonly clientCa?: string | undefined;
}

/** One consistent set of TLS material, already known to make a valid secure context. */
export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca: Buffer | undefined;
}

/** The TLS files cannot be used; the message names the file and the reason. */
export class TlsFilesError extends Error {
  override readonly name = 'TlsFilesError';
}

type Listener = (material: TlsMaterial) => void;

/**
 * The current TLS material. A change is published only once the certificate, key and CA
 * together make a valid secure context: cert-manager writes the files one by one, and a
 * certificate paired with the previous key must never reach a listener. Until the set is
 * consistent again, the previous material keeps serving.
 */
export class TlsFiles {
  readonly settings: TlsSettings;
  #current: TlsMaterial;
  readonly #listeners = new Set<Listener>();
  readonly #poller: FilePoller;

  private constructor(settings: TlsSettings, initial: readonly Buffer[], reloadMs: number, logger?: Logger) {
    this.settings = settings;
    this.#current = material(settings, initial);
    this.#poller = new FilePoller({
      paths: paths(settings),
      intervalMs: reloadMs,
      initial,
      onChange: (contents) => {
        let next: TlsMaterial;
        try {
          next = material(settings, contents);
        } catch (err) {
          logger?.warn(
            { err: (err as Error).message },
            'TLS files not usable yet: the previous certificate keeps serving',
          );
          return;
        }
        this.#current = next;
        for (const listener of this.#listeners) listener(next);
        logger?.info({ cert: settings.cert }, 'TLS certificate reloaded');
      },
      onError: (err) =>
        logger?.warn({ err: err.message }, 'TLS files unreadable: the previous certificate keeps serving'),
    });
  }

  /** Read and check the files now; throws TlsFilesError naming the unusable file. */
  static load(settings: TlsSettings, reloadMs: number, logger?: Logger): TlsFiles {
    const initial = paths(settings).map((path) => {
      try {
        return readFileSync(path);
      } catch (err) {
        throw new TlsFilesError(`TLS file '${path}' cannot be read: ${(err as Error).message}`);
      }
    });
    return new TlsFiles(settings, initial, reloadMs, logger);
  }

  get current(): TlsMaterial {
    return this.#current;
  }

  /** True when clients must present a certificate signed by the client CA. */
  get mutual(): boolean {
    return this.settings.clientCa !== undefined;
  }

  /** Call `listener` with every later change; returns the function that stops it. */
  onChange(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  close(): void {
    this.#poller.close();
    this.#listeners.clear();
  }
}

function paths(settings: TlsSettings): string[] {
  return settings.clientCa === undefined
    ? [settings.cert, settings.key]
    : [settings.cert, settings.key, settings.clientCa];
}

/** The material of `contents` (in `paths` order), or TlsFilesError if it makes no valid context. */
function material(settings: TlsSettings, contents: readonly Buffer[]): TlsMaterial {
  const [cert, key, ca] = contents as [Buffer, Buffer, Buffer | undefined];
  try {
    createSecureContext({ cert, key, ca });
  } catch (err) {
    throw new TlsFilesError(
      `TLS files '${settings.cert}', '${settings.key}'${settings.clientCa === undefined ? '' : `, '${settings.clientCa}'`} do not make a valid certificate, key and CA: ${(err as Error).message}`,
    );
  }
  return { cert, key, ca };
}
