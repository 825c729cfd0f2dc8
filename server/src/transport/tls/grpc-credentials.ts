// gRPC server credentials that follow TlsFiles: grpc-js binds its credentials once, but accepts
// a certificate provider whose updates it applies to the running server (setSecureContext).
import { experimental, type ServerCredentials } from '@grpc/grpc-js';
import type { TlsFiles } from './tls-files.js';

/**
 * TlsFiles as a grpc-js CertificateProvider (rather than grpc-js's own FileWatcherCertificateProvider,
 * which publishes "no certificate" when a read fails mid-rotation and so drops every connection
 * until the next read succeeds).
 */
// The first update is delivered in a microtask, not synchronously: grpc-js subscribes to the
// provider before it registers the server's watcher, so a synchronous update would be lost and
// the listener would drop every connection as "credentials not loaded".
class TlsFilesProvider implements experimental.CertificateProvider {
  readonly #files: TlsFiles;
  readonly #stops = new Map<unknown, () => void>();

  constructor(files: TlsFiles) {
    this.#files = files;
  }

  addCaCertificateListener(listener: experimental.CaCertificateUpdateListener): void {
    const send = (): void => {
      const ca = this.#files.current.ca;
      listener(ca === undefined ? null : { caCertificate: ca });
    };
    queueMicrotask(send);
    this.#stops.set(listener, this.#files.onChange(send));
  }

  removeCaCertificateListener(listener: experimental.CaCertificateUpdateListener): void {
    this.#stops.get(listener)?.();
    this.#stops.delete(listener);
  }

  addIdentityCertificateListener(listener: experimental.IdentityCertificateUpdateListener): void {
    const send = (): void => {
      const { cert, key } = this.#files.current;
      listener({ certificate: cert, privateKey: key });
    };
    queueMicrotask(send);
    this.#stops.set(listener, this.#files.onChange(send));
  }

  removeIdentityCertificateListener(listener: experimental.IdentityCertificateUpdateListener): void {
    this.#stops.get(listener)?.();
    this.#stops.delete(listener);
  }
}

/** Credentials serving `files`, requiring and verifying client certificates when it has a client CA. */
export function grpcServerCredentials(files: TlsFiles): ServerCredentials {
  const provider = new TlsFilesProvider(files);
  // grpc-js 1.14 declares (caProvider, identityProvider) but hands them to the constructor as
  // (identity, ca): the first argument is what the listener presents, the second the client CA.
  // The TLS tests (plain TLS and mutual) fail if a grpc-js upgrade changes either.
  return experimental.createCertificateProviderServerCredentials(
    provider,
    files.mutual ? provider : null,
    files.mutual,
  );
}
