// A wall clock (ms since 1970) with sub-millisecond resolution, for delays measured against
// timestamps another process stamped (a Redis commit time carries microseconds). Date.now()
// rounds to the millisecond, too coarse for a delay that is itself about a millisecond;
// performance.now() is fine-grained but monotonic, so over days it drifts from the system
// clock that NTP steers. This one reads performance.now() from an anchor and keeps it inside
// Date.now()'s current millisecond, re-anchoring whenever the two part: to the start of that
// millisecond, so a reading is at most 1 ms early until Date.now() next ticks, and from that
// tick on it is exact again (it falls below the new millisecond and re-anchors onto it).

export type WallClock = () => number;

export function preciseWallClock(
  coarse: () => number = Date.now,
  monotonic: () => number = () => performance.now(),
): WallClock {
  let anchor = performance.timeOrigin;
  return () => {
    const floor = coarse();
    const mono = monotonic();
    let t = anchor + mono;
    if (t < floor || t >= floor + 1) {
      t = floor;
      anchor = floor - mono;
    }
    return t;
  };
}
