// Minimal typings for the parts of rtpengine-client (plain JS, no bundled types) that we use.
declare module 'rtpengine-client' {
  import type { EventEmitter } from 'node:events';
  export type NgValue = string | number | NgValue[] | { [k: string]: NgValue };
  export type NgResponse = { result: string; 'error-reason'?: string; warning?: string; sdp?: string; [k: string]: unknown };
  export class Client extends EventEmitter {
    constructor(opts?: { localPort?: number; localAddress?: string; timeout?: number; rejectOnError?: boolean });
    ping(port: number, host: string): Promise<NgResponse>;
    offer(port: number, host: string, opts: Record<string, NgValue>): Promise<NgResponse>;
    answer(port: number, host: string, opts: Record<string, NgValue>): Promise<NgResponse>;
    delete(port: number, host: string, opts: Record<string, NgValue>): Promise<NgResponse>;
    query(port: number, host: string, opts: Record<string, NgValue>): Promise<NgResponse>;
    close(): void;
  }
}
