/**
 * A seam for the local runtime, which has no IAM. There, the local stack registers a checker that
 * applies each function's grants (contract/functions.ts) to every AWS call the function makes, and
 * answers as AWS would (`AccessDeniedException`). In AWS nothing is registered: IAM decides and every
 * call passes through unchanged. (functions/ never imports local/, hence a registry.)
 */
import type { HttpRequest, HttpResponse } from '@smithy/protocol-http';
import type { GrantResource } from '#contract/functions';

export interface AccessChecker {
  /** Throws an AccessDeniedException when the calling function may not do `action` on `resource`. */
  authorize(action: string, resource: GrantResource): void;
  /** Checks a signed AWS API request before it is sent: the refusal to answer instead, or undefined. */
  checkHttp(request: HttpRequest): HttpResponse | undefined;
}

let checker: AccessChecker | undefined;

/** Installs the local checker; returns its removal. */
export function registerAccessChecker(next: AccessChecker): () => void {
  checker = next;
  return () => {
    if (checker === next) checker = undefined;
  };
}

/** For local stand-ins of AWS services (key file for KMS, in-process queue, progress publishing). */
export function authorizeAccess(action: string, resource: GrantResource): void {
  checker?.authorize(action, resource);
}

interface HttpHandlerLike {
  handle(request: HttpRequest, options?: unknown): Promise<{ response: HttpResponse }>;
  updateHttpClientConfig(key: never, value: never): void;
  httpHandlerConfigs(): unknown;
  destroy?(): void;
}

/**
 * An SDK client extension that puts the checker in front of the client's HTTP handler. The checker is
 * looked up per request, so a client made before (or outliving) a local stack follows the current one.
 */
export const accessCheckExtension = {
  configure(config: { httpHandler(): HttpHandlerLike; setHttpHandler(handler: HttpHandlerLike): void }): void {
    const inner = config.httpHandler();
    config.setHttpHandler({
      handle: (request, options) => {
        const refused = checker?.checkHttp(request);
        return refused ? Promise.resolve({ response: refused }) : inner.handle(request, options);
      },
      updateHttpClientConfig: (key, value) => inner.updateHttpClientConfig(key, value),
      httpHandlerConfigs: () => inner.httpHandlerConfigs(),
      destroy: () => inner.destroy?.(),
    });
  },
};
