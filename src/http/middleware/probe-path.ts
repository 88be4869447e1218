// Probe endpoints (/health*, /metrics): polled every few seconds per pod, so their requests are
// logged at debug and not traced.
export const PROBE_PATH = /^\/(health|metrics)(\/|$)/;
