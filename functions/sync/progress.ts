/**
 * Live progress of one job at a bounded rate: step progress is coalesced (at most one event per
 * `minIntervalMs`, the latest wins), while phase changes, applied changes, errors and the final summary
 * always go out. Events are sent one at a time in order (`seq` from 1); a failed publish is logged once
 * and never stops the sync.
 */
import type { SyncJobStatus, SyncPhase } from './types';
import { componentLogger, errorFields } from '../shared/logger';

const log = componentLogger('sync-progress');

export interface ProgressEvent {
  jobId: string;
  userId: string;
  seq: number;
  status: SyncJobStatus;
  phase: SyncPhase;
  processed: number;
  total: number;
  currentSeries?: string | null;
  /** Estimated seconds left in the current step, when it can be told. */
  etaSeconds?: number | null;
  change?: unknown;
  error?: unknown;
  summary?: unknown;
}

export type PublishProgress = (event: ProgressEvent) => Promise<unknown>;

export class ProgressReporter {
  private seq = 0;
  private chain: Promise<void> = Promise.resolve();
  private lastSentAt = 0;
  private pending?: Omit<ProgressEvent, 'seq'>;
  private timer?: NodeJS.Timeout;
  private warned = false;
  private status: SyncJobStatus = 'RUNNING';
  private phase: SyncPhase = 'QUEUED';
  readonly sent: ProgressEvent[] = [];

  constructor(
    private readonly publish: PublishProgress | undefined,
    private readonly job: { jobId: string; userId: string },
    private readonly minIntervalMs = 200,
    private readonly keepSent = false,
  ) {}

  private send(event: Omit<ProgressEvent, 'seq'>): void {
    this.pending = undefined;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.lastSentAt = Date.now();
    const full: ProgressEvent = { ...event, seq: ++this.seq };
    if (this.keepSent) this.sent.push(full);
    const publish = this.publish;
    if (!publish) return;
    this.chain = this.chain.then(() =>
      publish(full).then(
        () => undefined,
        (error: unknown) => {
          if (!this.warned) log.warn('progress event not published', { jobId: this.job.jobId, ...errorFields(error) });
          this.warned = true;
        },
      ),
    );
  }

  private base(processed: number, total: number) {
    return { ...this.job, status: this.status, phase: this.phase, processed, total };
  }

  /** A phase or status change: always sent. */
  phaseChanged(status: SyncJobStatus, phase: SyncPhase, processed = 0, total = 0): void {
    this.status = status;
    this.phase = phase;
    this.send(this.base(processed, total));
  }

  /** Step progress: coalesced, except the step's last count (processed = total), which always goes out. */
  progress(processed: number, total: number, currentSeries?: string | null, etaSeconds?: number | null): void {
    const event = { ...this.base(processed, total), currentSeries: currentSeries ?? null, ...(etaSeconds === undefined ? {} : { etaSeconds }) };
    const wait = this.lastSentAt + this.minIntervalMs - Date.now();
    if (wait <= 0 || (total > 0 && processed >= total)) {
      this.send(event);
      return;
    }
    this.pending = event;
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      if (this.pending) this.send(this.pending);
    }, wait);
  }

  change(processed: number, total: number, currentSeries: string | null, change: unknown): void {
    this.send({ ...this.base(processed, total), currentSeries, change });
  }

  error(processed: number, total: number, error: unknown): void {
    this.send({ ...this.base(processed, total), error });
  }

  summary(status: SyncJobStatus, phase: SyncPhase, processed: number, total: number, summary: unknown): void {
    this.status = status;
    this.phase = phase;
    this.send({ ...this.base(processed, total), summary });
  }

  /** Waits for every event sent so far (pending coalesced progress is dropped: a later event supersedes it). */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = undefined;
    await this.chain;
  }
}
