// The Lua scripts that make each RedisStore mutation one atomic server-side step. Redis holds no
// relationship index: replicas plan each write on their mirror of the set at a revision R, and
// the COMMIT script checks by compare-and-set that nothing the plan read has changed since R
// (the version fields of write-versions.ts), then bumps the revision, stamps the fields it
// changed, appends the change set to the changelog and publishes it
// (docs/design/redis-changelog-store.md). The scripts know no schema rules and no filter
// semantics. Every script receives the store's ten keys (one hash tag, so one Cluster slot) and
// checks the epoch first, so nothing is written into a store whose data started anew behind its
// back. A mutation decides everything before its first write, so a refused one leaves no trace.

/**
 * The field of a versions generation holding the revision it starts at. No version field
 * (write-versions.ts) starts with '!'.
 */
export const SINCE_FIELD = '!since';

/**
 * Version fields one generation holds before it becomes the previous one and a new one starts
 * (the previous one's predecessor is dropped): Redis holds at most about twice this many,
 * whatever the store's size and however many relationships were ever written.
 */
export const VERSIONS_PER_GENERATION = 100_000;

/** Helpers shared by the scripts: the epoch and revision, the changelog and its trimming. */
const PRELUDE = `
local function check_epoch(expected)
  local e = redis.call('GET', KEYS[4])
  if e ~= expected then return {'epoch', e or ''} end
  return nil
end

local function current_revision()
  return tonumber(redis.call('GET', KEYS[3]) or '0')
end

-- A changelog entry's field (entries are {id, {name, value, ...}}); nil when absent.
local function entry_field(entry, name)
  local fields = entry[2]
  for k = 1, #fields - 1, 2 do
    if fields[k] == name then return fields[k + 1] end
  end
  return nil
end

-- The newest revision the changelog may be trimmed to (inclusive): the oldest relationship image
-- kept in this epoch (KEYS[10], members '<epoch>:<revision>' scored by revision). A replica
-- starts its mirror from an image and the changelog after it, so with no image in the epoch
-- nothing may go: the changelog is then the only record.
local function trim_floor(epoch)
  local members = redis.call('ZRANGE', KEYS[10], 0, -1)
  local floor = 0
  for k = 1, #members do
    local e, r = string.match(members[k], '^([^:]+):(%d+)$')
    if e == epoch then
      r = tonumber(r)
      if floor == 0 or r < floor then floor = r end
    end
  end
  return floor
end

-- Drops the entries up to revision 'cut' (inclusive), never past the trim floor.
local function trim_to(cut, floor)
  if cut > floor then cut = floor end
  if cut >= 1 then redis.call('XTRIM', KEYS[5], 'MINID', (cut + 1) .. '-0') end
end

-- Appends a changelog entry for revision 'rev' carrying 'b': the bytes of change lines appended
-- so far in the epoch (KEYS[8], counted up here), which trimming by bytes reads. 'retention'
-- is '<entries> <bytes>': the stream keeps at most that many entries, and drops its oldest while
-- the change lines it holds exceed the bytes (so one bulk load cannot fill Redis with its
-- changes); the newest entry always stays, and nothing newer than the oldest image goes.
-- Entries without 'b' (written before it existed) stop the byte trim until the count trim has
-- removed them.
local function append_change(retention, epoch, rev, fields, joined)
  local keep, cap = string.match(retention, '^(%d+) ?(%d*)$')
  local total = redis.call('INCRBY', KEYS[8], #joined)
  local before = total - #joined
  fields[#fields + 1] = 'b'
  fields[#fields + 1] = string.format('%d', total)
  redis.call('XADD', KEYS[5], rev .. '-0', unpack(fields))
  keep = tonumber(keep)
  local floor = nil
  if rev - keep >= 1 then
    floor = trim_floor(epoch)
    trim_to(rev - keep, floor)
  end
  cap = tonumber(cap)
  if cap == nil or cap == 0 then return end
  -- Checked each time another sixteenth of the bound has been appended, not on every write: the
  -- stream may hold up to 1/16 more than the bound in between.
  local step = math.max(1, math.floor(cap / 16))
  if math.floor(total / step) == math.floor(before / step) then return end
  local need = total - cap
  if need <= 0 then return end
  floor = floor or trim_floor(epoch)
  -- Keeping only the entries after P holds total - b(P) bytes: drop up to the first P with
  -- b(P) >= need, walking from the oldest in pages that start at one entry and double (entries
  -- of a bulk load are large; each entry is read about once, as the walk's start moves on with
  -- the trim).
  local from, count = '-', 1
  while true do
    local page = redis.call('XRANGE', KEYS[5], from, '+', 'COUNT', count)
    if #page == 0 then return end
    for k = 1, #page do
      local e = page[k]
      local b = tonumber(entry_field(e, 'b'))
      if b == nil then return end
      if k == 1 and from == '-' and b - #(entry_field(e, 'c') or '') >= need then return end
      local cut = tonumber(string.match(e[1], '^(%d+)'))
      if b >= need or cut >= floor then
        if cut >= rev then cut = rev - 1 end
        trim_to(cut, floor)
        return
      end
    end
    from = '(' .. page[#page][1]
    count = math.min(count * 2, 256)
  end
end

-- The commit time in ms since 1970 from Redis's clock, as the changelog records it: with the
-- microseconds as three decimals, so a replica can measure a delay of about a millisecond.
local function now_ms()
  local t = redis.call('TIME')
  local us = tonumber(t[2])
  return string.format('%d.%03d', tonumber(t[1]) * 1000 + math.floor(us / 1000), us % 1000)
end

-- Publishes a committed change set on the store's feed channel (storeKeys().changeFeed), which
-- watchers stay subscribed to: they issue no command per change and read the changelog only
-- for a gap. pcall: the write has committed by now, and an ACL user without the channel
-- (NOPERM) must not turn it into an error reply; its watchers fall back to the changelog.
local function publish(message)
  redis.pcall('PUBLISH', KEYS[5] .. ':feed', message)
end
`;

export interface ScriptDefinition {
  readonly numberOfKeys: number;
  readonly lua: string;
}

const writing = (body: string): ScriptDefinition => ({ numberOfKeys: 11, lua: `#!lua\n${PRELUDE}\n${body}` });
const reading = (body: string): ScriptDefinition => ({
  numberOfKeys: 11,
  lua: `#!lua flags=no-writes\n${PRELUDE}\n${body}`,
});

/**
 * A batch of writes planned by replicas, each atomic on its own, committed in order (group
 * commit: concurrent writes of one replica share one script call and one round trip).
 * ARGV: epoch, retention, the writer (the committing RedisStore instance's id, named in each
 * change set's feed message so its own watchers can wait for the reply that brings the set
 * decoded), then per write: the count of its args that follow (5), expectRevision
 * ('' = any), the revision it was planned at, the version fields its plan read (one per line),
 * how many of them (from the first) its changes stamp too (the relationship fields of the
 * updates it wrote: sent once), the other fields its changes stamp (one per line), then its
 * changes as the changelog holds them ('+member[attributes]' / '-member[attributes]' lines).
 * Fields travel as one argument per list, not one each: no field holds a newline (write-versions.ts
 * builds them from names and ids that cannot), and a batch of 1,000 relationships names about
 * 2,000 of them, whose encoding as separate arguments cost the client more than splitting them
 * costs Redis.
 * Reply: one per write, in order: {'ok', revision, committedAtMs}, {'conflict', the newest
 * revision among the fields it read} (replan on a mirror at least that fresh and retry),
 * {'revision', the store's revision} (expectRevision passed), {'epoch', e} or {'seeding'}. A
 * refused write changes nothing and does not stop the next one; each committed write has its
 * own revision and changelog entry.
 * Versions live in two generations (KEYS[9] the current one, KEYS[11] the previous one), each
 * recording the stamps of the revisions from its SINCE_FIELD on: a field's last stamp is in one
 * of them, or older than both. So a plan made before the oldest generation starts is refused
 * whatever it read (with the revision just before that start: replan from there), since what
 * changed after it is no longer all recorded. A seed starts a new first generation after its
 * revision, so every plan made before the seed is refused.
 */
const COMMIT = writing(`
local er = redis.call('MGET', KEYS[4], KEYS[3])
local replies = {}
local i = 4
local function refuse_all(reply)
  while i <= #ARGV do
    replies[#replies + 1] = reply
    i = i + 1 + tonumber(ARGV[i])
  end
  return replies
end
if er[1] ~= ARGV[1] then return refuse_all({'epoch', er[1] or ''}) end
local rev = tonumber(er[2] or '0')
-- Revision 0 with a seeding lease: a replica is writing the seed's image; writes wait for it.
if rev == 0 and redis.call('EXISTS', KEYS[7]) == 1 then return refuse_all({'seeding'}) end
local at = now_ms()
-- A generation records the stamps of revisions from its SINCE_FIELD on (absent: from the
-- start). A plan at R is checkable when every revision after R is recorded: R >= floor.
local since = tonumber(redis.call('HGET', KEYS[9], '${SINCE_FIELD}') or '0')
local has_old = redis.call('EXISTS', KEYS[11]) == 1
local old_since = since
if has_old then old_since = tonumber(redis.call('HGET', KEYS[11], '${SINCE_FIELD}') or '0') end
local floor = old_since - 1
-- The fields of a newline-separated list ('' for none), as a table.
local function lines(text)
  local out, n, from = {}, 0, 1
  if text == '' then return out end
  while true do
    local to = string.find(text, '\\n', from, true)
    n = n + 1
    if to == nil then
      out[n] = string.sub(text, from)
      return out
    end
    out[n] = string.sub(text, from, to - 1)
    from = to + 1
  end
end
-- The newest stamp among the fields in one generation (0 for none).
local function newest_in(key, fields)
  local newest = 0
  for k = 1, #fields, 1000 do
    local last = math.min(k + 999, #fields)
    local seen = redis.call('HMGET', key, unpack(fields, k, last))
    for n = 1, #seen do
      local v = tonumber(seen[n] or '0')
      if v > newest then newest = v end
    end
  end
  return newest
end
-- Stamps 'rev' on the first 'count' of 'fields', 500 per HSET.
local function stamp(fields, count, rev)
  local args = {}
  for k = 1, count, 500 do
    local last = math.min(k + 499, count)
    local n = 0
    for a = k, last do
      args[n + 1] = fields[a]
      args[n + 2] = rev
      n = n + 2
    end
    redis.call('HSET', KEYS[9], unpack(args, 1, n))
  end
end
while i <= #ARGV do
  local j = i + 1
  local expect, planned = ARGV[j], tonumber(ARGV[j + 1])
  local reads = lines(ARGV[j + 2])
  local own = tonumber(ARGV[j + 3])
  local bumps = lines(ARGV[j + 4])
  local changes = ARGV[j + 5]
  local reply
  if expect ~= '' and tonumber(expect) ~= rev then
    reply = {'revision', rev}
  else
    local newest = 0
    -- A plan made at a revision the store has not reached is from another history; one made
    -- before the floor cannot be checked.
    if planned > rev then
      newest = planned
    elseif planned < floor then
      newest = floor
    elseif #reads > 0 then
      newest = newest_in(KEYS[9], reads)
      if has_old and planned + 1 < since then
        newest = math.max(newest, newest_in(KEYS[11], reads))
      end
      if newest <= planned then newest = 0 end
    end
    if newest > 0 then
      reply = {'conflict', newest}
    else
      rev = redis.call('INCR', KEYS[3])
      stamp(reads, own, rev)
      stamp(bumps, #bumps, rev)
      append_change(ARGV[2], ARGV[1], rev, {'e', ARGV[1], 't', at, 'c', changes}, changes)
      publish(rev .. ' ' .. ARGV[1] .. ' ' .. at .. ' ' .. ARGV[3] .. '\\n' .. changes)
      reply = {'ok', rev, at}
      -- A full generation becomes the previous one (its predecessor freed in the background).
      if redis.call('HLEN', KEYS[9]) > ${VERSIONS_PER_GENERATION} then
        redis.call('UNLINK', KEYS[11])
        redis.call('RENAME', KEYS[9], KEYS[11])
        redis.call('HSET', KEYS[9], '${SINCE_FIELD}', rev + 1)
        old_since, has_old, since = since, true, rev + 1
        floor = old_since - 1
      end
    end
  end
  replies[#replies + 1] = reply
  i = i + 1 + tonumber(ARGV[i])
end
return replies
`);

/**
 * Seeding under a lease (KEYS[7], the seeder's id with a TTL) so replicas never interleave:
 * SEED_BEGIN takes or renews the lease, the seeder publishes the seed as the relationship image
 * of revision 1, and SEED_FINISH commits revision 1. Until then the store stays at revision 0,
 * which reads see as empty and writes refuse ('seeding'). ARGV: epoch, seeder id, lease ms.
 * Reply {'ok'}, {'held'} while another seeder's lease lives, {'seeded'} if the store has a
 * revision, or {'epoch', e}.
 */
const SEED_BEGIN = writing(`
local bad = check_epoch(ARGV[1])
if bad then return bad end
if current_revision() ~= 0 then return {'seeded'} end
local holder = redis.call('GET', KEYS[7])
if holder and holder ~= ARGV[2] then return {'held'} end
redis.call('SET', KEYS[7], ARGV[2], 'PX', ARGV[3])
return {'ok'}
`);

/**
 * ARGV: epoch, seeder id, retention. Commits the seed (its image, already published) as revision
 * 1: its changelog entry has no changes but the flag s=1 (the seed is too large for one entry),
 * so a reader of it resyncs from the image. Releases the lease. Reply {'ok', 1, committedAtMs},
 * {'seeded'}, {'lost'} (another seeder took the lease) or {'epoch', e}.
 */
const SEED_FINISH = writing(`
local bad = check_epoch(ARGV[1])
if bad then return bad end
if current_revision() ~= 0 then return {'seeded'} end
if redis.call('GET', KEYS[7]) ~= ARGV[2] then return {'lost'} end
local rev = redis.call('INCR', KEYS[3])
local at = now_ms()
-- The seed stamps no object: a first versions generation starting at it refuses every plan
-- made before it instead (see COMMIT).
redis.call('UNLINK', KEYS[9], KEYS[11])
redis.call('HSET', KEYS[9], '${SINCE_FIELD}', rev + 1)
append_change(ARGV[3], ARGV[1], rev, {'e', ARGV[1], 't', at, 'c', '', 's', '1'}, '')
-- No changes on the feed (too many): 's' sends watchers to the changelog, which says resync.
publish(rev .. ' ' .. ARGV[1] .. ' ' .. at .. ' s')
redis.call('DEL', KEYS[7])
return {'ok', rev, at}
`);

/** ARGV: candidate epoch. Returns the store's epoch, creating it when absent (a new or emptied store). */
const IDENTITY = writing(`
local e = redis.call('GET', KEYS[4])
if e then return e end
redis.call('SET', KEYS[4], ARGV[1])
return ARGV[1]
`);

/**
 * ARGV: the epoch a caller saw, a fresh epoch, the highest revision the caller saw in it. When
 * the store still has that epoch but a lower revision, it lost acknowledged writes (a restart
 * from an AOF or RDB that missed them): the epoch is replaced, so every replica resyncs instead
 * of carrying on by revision number. Returns the epoch now.
 */
const ROLLBACK = writing(`
local e = redis.call('GET', KEYS[4])
if e == ARGV[1] and current_revision() < tonumber(ARGV[3]) then
  redis.call('SET', KEYS[4], ARGV[2])
  return ARGV[2]
end
return e or ''
`);

/**
 * Stores written by builds before the changelog layout kept the relationships in two indexes:
 * a sorted set of `type:id#relation@subject` members (KEYS[1]), by-subject buckets (KEYS[2] ..
 * b) and an attributes hash (KEYS[6]). A replica converts such a store once (redis-store.ts):
 * it reads the set with LEGACY_CHUNK, publishes it as an image, then drops the indexes with
 * LEGACY_DROP.
 * ARGV: epoch, after (member, '' = start), count. Reply {'ok', revision, members, their
 * attributes ('' for none; absent when no relationship has any)} or {'epoch', e}.
 */
const LEGACY_CHUNK = reading(`
local bad = check_epoch(ARGV[1])
if bad then return bad end
local lo = '-'
if ARGV[2] ~= '' then lo = '(' .. ARGV[2] end
local members = redis.call('ZRANGEBYLEX', KEYS[1], lo, '+', 'LIMIT', 0, tonumber(ARGV[3]))
local reply = {'ok', current_revision(), members}
if redis.call('EXISTS', KEYS[6]) == 1 and #members > 0 then
  reply[4] = redis.call('HMGET', KEYS[6], unpack(members))
  for k = 1, #members do reply[4][k] = reply[4][k] or '' end
end
return reply
`);

/**
 * ARGV: epoch, first bucket, buckets per call, bucket count. Unlinks the old indexes (the
 * sorted set and attributes on the first call) and that many buckets. Reply {'ok', next bucket}
 * (the bucket count when done) or {'epoch', e}.
 */
const LEGACY_DROP = writing(`
local bad = check_epoch(ARGV[1])
if bad then return bad end
local first, step, total = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
if first == 0 then redis.call('UNLINK', KEYS[1], KEYS[6]) end
local last = math.min(first + step, total) - 1
local keys = {}
for b = first, last do keys[#keys + 1] = KEYS[2] .. b end
for k = 1, #keys, 1000 do redis.call('UNLINK', unpack(keys, k, math.min(k + 999, #keys))) end
return {'ok', last + 1}
`);

/** The scripts by the command name RedisStore calls them under (EVALSHA with EVAL fallback). */
export const SCRIPTS = {
  gatehouseCommit: COMMIT,
  gatehouseSeedBegin: SEED_BEGIN,
  gatehouseSeedFinish: SEED_FINISH,
  gatehouseIdentity: IDENTITY,
  gatehouseRollback: ROLLBACK,
  gatehouseLegacyChunk: LEGACY_CHUNK,
  gatehouseLegacyDrop: LEGACY_DROP,
} as const satisfies Record<string, ScriptDefinition>;

export type ScriptName = keyof typeof SCRIPTS;

/**
 * The same scripts with the change feed sent by SPUBLISH, for a Cluster: a classic PUBLISH from
 * a script reaches subscribers on every node, so Redis forwards each change set over the cluster
 * bus to all of them; a sharded channel stays on the store's shard (its master and replicas).
 * Watchers on a Cluster subscribe with SSUBSCRIBE, on the master that owns the store's slot.
 */
export const SHARDED_FEED_SCRIPTS: typeof SCRIPTS = Object.fromEntries(
  Object.entries(SCRIPTS).map(([name, script]) => {
    const lua = script.lua.replaceAll("redis.pcall('PUBLISH', ", "redis.pcall('SPUBLISH', ");
    // A PUBLISH written any other way would silently stay a classic, bus-wide one.
    if (/'PUBLISH'/.test(lua))
      throw new Error(`script ${name} publishes the feed in a form not made sharded`);
    return [name, { ...script, lua }];
  }),
) as typeof SCRIPTS;
