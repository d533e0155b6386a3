/**
 * A throwaway self-signed certificate for TLS tests, made with the openssl CLI at test time so no
 * key is ever committed. It is valid for 127.0.0.1, ::1 and localhost (subjectAltName: modern
 * clients ignore the CN), and is its own CA: pass `cert` as `tls.ca` to trust it.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestCertificate {
  readonly certPath: string;
  readonly keyPath: string;
  /** PEM text of the certificate (also the CA to trust). */
  readonly cert: string;
  /** PEM text of the private key. */
  readonly key: string;
  /** Deletes the temporary directory. */
  cleanup(): void;
}

export function createTestCertificate(): TestCertificate {
  const dir = mkdtempSync(join(tmpdir(), "tideway-tls-"));
  const certPath = join(dir, "cert.pem");
  const keyPath = join(dir, "key.pem");
  try {
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        // An EC key: generating it is instant, unlike RSA.
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        keyPath,
        "-out",
        certPath,
        "-days",
        "1",
        "-subj",
        "/CN=localhost",
        "-addext",
        "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
      ],
      { stdio: ["ignore", "ignore", "pipe"], timeout: 10_000 },
    );
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`openssl could not create a test certificate: ${(error as Error).message}`);
  }
  return {
    certPath,
    keyPath,
    cert: readFileSync(certPath, "utf8"),
    key: readFileSync(keyPath, "utf8"),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
