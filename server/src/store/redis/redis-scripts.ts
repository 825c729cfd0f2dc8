// The Lua scripts that make each RedisStore mutation one atomic server-side step. They know
// the data layout (redis-layout.ts) and relationship filters, never schema rules. Every
// script receives the store's seven keys (one hash tag, so one Cluster slot) and checks the
// epoch first, so nothing is written into a store whose data started anew behind its back.
// Mutations plan everything before the first write, so a failed check leaves no trace.
import { SUBJECT_BUCKETS } from './redis-layout.js';

/** Helpers shared by every script: filter matching, the two member forms, range scans. */
const PRELUDE = `
local UNSET = '!'
local BUCKETS = ${SUBJECT_BUCKETS}
local find, sub, byte = string.find, string.sub, string.byte

-- The by-subject bucket of a subject object 'type:id': redis-layout.ts subjectBucketOf.
local function bucket_of(object)
  local h = 0
  for i = 1, #object do h = (h * 31 + byte(object, i)) % BUCKETS end
  return h
end

-- A by-resource member's by-subject member and bucket.
local function to_subject(m)
  local at = find(m, '@', 1, true)
  local s = sub(m, at + 1)
  local object = s
  local h = find(s, '#', 1, true)
  if h then object = sub(s, 1, h - 1) else s = s .. '#' end
  return s .. '@' .. sub(m, 1, at - 1), bucket_of(object)
end

local function to_resource(m)
  local at = find(m, '@', 1, true)
  local s = sub(m, 1, at - 1)
  if sub(s, -1) == '#' then s = sub(s, 1, -2) end
  return sub(m, at + 1) .. '@' .. s
end

-- f: {index, bucket, min, max, rt, rid, rel, st, sid, srel}; m: a by-resource member.
local function matches(m, f)
  local at = find(m, '@', 1, true)
  local c = find(m, ':', 1, true)
  local h = find(m, '#', c + 1, true)
  if f[5] ~= UNSET and sub(m, 1, c - 1) ~= f[5] then return false end
  if f[6] ~= UNSET and sub(m, c + 1, h - 1) ~= f[6] then return false end
  if f[7] ~= UNSET and sub(m, h + 1, at - 1) ~= f[7] then return false end
  local c2 = find(m, ':', at + 1, true)
  if f[8] ~= UNSET and sub(m, at + 1, c2 - 1) ~= f[8] then return false end
  local h2 = find(m, '#', c2 + 1, true)
  if f[9] ~= UNSET and (h2 and sub(m, c2 + 1, h2 - 1) or sub(m, c2 + 1)) ~= f[9] then return false end
  if f[10] ~= UNSET and (h2 and sub(m, h2 + 1) or '') ~= f[10] then return false end
  return true
end

local function read_filter(i)
  local f = {}
  for k = 0, 9 do f[k + 1] = ARGV[i + k] end
  return f, i + 10
end

-- Visits the members of one sorted set in [lo, max] in order; see scan.
local function scan_key(key, lo, max, f, to_position, state, visit)
  while true do
    local batch = redis.call('ZRANGEBYLEX', key, lo, max, 'LIMIT', 0, 256)
    for i = 1, #batch do
      local raw = batch[i]
      state.scanned = state.scanned + 1
      local m, position = raw, raw
      if to_position then m, position = to_resource(raw), to_position(raw) end
      if matches(m, f) and visit(m, position) then return position, false end
      if state.budget and state.scanned >= state.budget then return position, true end
    end
    if #batch < 256 then return nil, false end
    lo = '(' .. batch[#batch]
  end
end

-- Visits matching members (as by-resource members, with their scan position) in index order
-- after the position 'from' (exclusive) until visit returns true or 'budget' members were
-- scanned. A position is the member itself in the by-resource index, '<bucket>|<member>' in the
-- by-subject buckets (scanned in bucket order; an empty bucket counts as 1/8 of a member, and
-- at most 'max_buckets' buckets are visited when it is set, so one call never walks them all).
-- Returns the position where it stopped early, whether the budget ran out, and the members scanned.
local function scan(f, from, budget, visit, max_buckets)
  local state = {scanned = 0, budget = budget}
  if f[1] ~= 's' then
    local lo = from and ('(' .. from) or f[3]
    local stopped, exhausted = scan_key(KEYS[1], lo, f[4], f, nil, state, visit)
    return stopped, exhausted, state.scanned
  end
  local first, last = 0, BUCKETS - 1
  if f[2] ~= '' then first = tonumber(f[2]) last = first end
  local after = nil
  if from then
    local bar = find(from, '|', 1, true)
    first, after = tonumber(sub(from, 1, bar - 1)), sub(from, bar + 1)
  end
  for b = first, last do
    local lo = after and ('(' .. after) or f[3]
    after = nil
    local to_position = function(raw) return b .. '|' .. raw end
    local stopped, exhausted = scan_key(KEYS[2] .. b, lo, f[4], f, to_position, state, visit)
    if stopped then return stopped, exhausted, state.scanned end
    state.scanned = state.scanned + 0.125
    -- '\\127' sorts after every member: resuming there starts at the next bucket.
    local out_of_buckets = max_buckets and b - first + 1 >= max_buckets
    if (out_of_buckets or (budget and state.scanned >= budget)) and b < last then
      return b .. '|\\127', true, state.scanned
    end
  end
  return nil, false, state.scanned
end

local function check_epoch(expected)
  local e = redis.call('GET', KEYS[4])
  if e ~= expected then return {'epoch', e or ''} end
  return nil
end

local function current_revision()
  return tonumber(redis.call('GET', KEYS[3]) or '0')
end

-- Whether a chunked seed is under way or was left unfinished: at revision 0 (no write yet) a
-- seeding lease, or data (only a seed writes without bumping the revision). Writes wait for it.
local function seeding(rev)
  return rev == 0 and (redis.call('EXISTS', KEYS[7]) == 1 or redis.call('ZCARD', KEYS[1]) ~= 0)
end

-- Returns an error reply table for the first failing precondition, else nil and the next ARGV index.
local function check_preconditions(i)
  local n = tonumber(ARGV[i])
  i = i + 1
  for p = 1, n do
    local op = ARGV[i]
    local f
    f, i = read_filter(i + 1)
    local found = nil
    scan(f, nil, nil, function(m) found = m return true end)
    if op == 'm' and not found then return {'precondition', p, 'm', ''}, i end
    if op == 'n' and found then return {'precondition', p, 'n', found}, i end
  end
  return nil, i
end

-- Calls 'command key [0] item [0] item ...' in slices: Lua's unpack has a stack limit.
local function call_sliced(command, key, items, scored)
  local SLICE = 1000
  for k = 1, #items, SLICE do
    local args, n = {}, 0
    for j = k, math.min(k + SLICE - 1, #items) do
      if scored then
        args[n + 1] = 0
        n = n + 1
      end
      args[n + 1] = items[j]
      n = n + 1
    end
    redis.call(command, key, unpack(args))
  end
end

-- ZADD (scored) or ZREM by-subject members, one call per bucket they fall in.
local function per_bucket(command, members, buckets, scored)
  local groups, order = {}, {}
  for k = 1, #members do
    local b = buckets[k]
    local g = groups[b]
    if not g then
      g = {}
      groups[b] = g
      order[#order + 1] = b
    end
    g[#g + 1] = members[k]
  end
  for k = 1, #order do
    local b = order[k]
    call_sliced(command, KEYS[2] .. b, groups[b], scored)
  end
end

-- A changelog entry's field (entries are {id, {name, value, ...}}); nil when absent.
local function entry_field(entry, name)
  local fields = entry[2]
  for k = 1, #fields - 1, 2 do
    if fields[k] == name then return fields[k + 1] end
  end
  return nil
end

-- Appends a changelog entry for revision 'rev' carrying 'b': the bytes of change lines appended
-- so far in the epoch (KEYS[8], counted up here), which trimming by bytes reads. 'retention'
-- is '<entries> <bytes>': the stream keeps at most that many entries, and drops its oldest while
-- the change lines it holds exceed the bytes (so one bulk load cannot fill Redis with its
-- changes); the newest entry always stays. Entries without 'b' (written before it existed) stop
-- the byte trim until MAXLEN has trimmed them.
local function append_change(retention, rev, fields, joined)
  local keep, cap = string.match(retention, '^(%d+) ?(%d*)$')
  local total = redis.call('INCRBY', KEYS[8], #joined)
  local before = total - #joined
  fields[#fields + 1] = 'b'
  fields[#fields + 1] = string.format('%d', total)
  redis.call('XADD', KEYS[5], 'MAXLEN', keep, rev .. '-0', unpack(fields))
  cap = tonumber(cap)
  if cap == nil or cap == 0 then return end
  -- Checked each time another sixteenth of the bound has been appended, not on every write: the
  -- stream may hold up to 1/16 more than the bound in between.
  local step = math.max(1, math.floor(cap / 16))
  if math.floor(total / step) == math.floor(before / step) then return end
  local need = total - cap
  if need <= 0 then return end
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
      if b >= need then
        local cut = tonumber(string.match(e[1], '^(%d+)'))
        if cut >= rev then cut = rev - 1 end
        redis.call('XTRIM', KEYS[5], 'MINID', (cut + 1) .. '-0')
        return
      end
    end
    from = '(' .. page[#page][1]
    count = math.min(count * 2, 256)
  end
end

-- Writes the net effect (members to add and remove in both indexes: 'sadds'/'sremoves' are
-- by-subject members, in the buckets 'sab'/'srb'), bumps the revision and appends the change
-- set ('joined': '+member'/'-member' lines) to the changelog, trimmed by 'retention'.
-- 'attrs' is nil when no relationship involved has attributes, else {set = {m, a, ...}, del =
-- {m, ...}} for the attributes hash. The reply ends with 'result'.
-- The commit time in ms since 1970 from Redis's clock, as the changelog records it: with the
-- microseconds as three decimals, so a replica can measure a delay of about a millisecond.
local function now_ms()
  local t = redis.call('TIME')
  local us = tonumber(t[2])
  return string.format('%d.%03d', tonumber(t[1]) * 1000 + math.floor(us / 1000), us % 1000)
end

-- 'at' (optional): the commit time, when the caller read it once for several commits.
local function apply(epoch, retention, adds, sadds, sab, removes, sremoves, srb, attrs, joined, result, at)
  call_sliced('ZADD', KEYS[1], adds, true)
  per_bucket('ZADD', sadds, sab, true)
  call_sliced('ZREM', KEYS[1], removes, false)
  per_bucket('ZREM', sremoves, srb, false)
  if attrs then
    call_sliced('HSET', KEYS[6], attrs.set, false)
    call_sliced('HDEL', KEYS[6], attrs.del, false)
  end
  local rev = redis.call('INCR', KEYS[3])
  at = at or now_ms()
  append_change(retention, rev, {'e', epoch, 't', at, 'c', joined}, joined)
  -- The same change set on the store's feed channel (storeKeys().changeFeed), which watchers stay
  -- subscribed to: they issue no command per change and read the changelog only for a gap.
  -- pcall: the write has committed by now, and an ACL user without the channel (NOPERM) must not
  -- turn it into an error reply; its watchers fall back to reading the changelog.
  redis.pcall('PUBLISH', KEYS[5] .. ':feed', rev .. ' ' .. epoch .. ' ' .. at .. '\\n' .. joined)
  return {'ok', rev, at, result}
end

-- Whether any relationship of the store carries attributes (a condition or an expiry): only
-- then do writes read and maintain the attributes hash.
local function attrs_in_use()
  return redis.call('EXISTS', KEYS[6]) == 1
end

-- A change line '+member[attributes]' / '-member[attributes]': its member and attributes ('[' never
-- occurs in a member).
local function split_line(c)
  local bracket = find(c, '[', 2, true)
  if not bracket then return sub(c, 2), '' end
  return sub(c, 2, bracket - 1), sub(c, bracket)
end

-- The attributes of each member ('' for none), HMGET in slices.
local function attributes_of(members)
  local out = {}
  for k = 1, #members, 1000 do
    local last = math.min(k + 999, #members)
    local got = redis.call('HMGET', KEYS[6], unpack(members, k, last))
    for j = k, last do out[j] = got[j - k + 1] or '' end
  end
  return out
end

-- Appends each member's attributes to it, when any relationship has some.
local function with_attributes(members)
  if #members == 0 or not attrs_in_use() then return end
  local attrs = attributes_of(members)
  for k = 1, #members do members[k] = members[k] .. attrs[k] end
end

-- Applies planned changes ('+member[attributes]' / '-member', in order) as their net effect: see
-- apply. Deletes gain the attributes they removed. With 'echo' the reply carries the changes
-- back, joined like the changelog's; else their count.
local function commit(epoch, retention, changes, echo)
  local track = attrs_in_use()
  local first, last, final_attrs, order = {}, {}, {}, {}
  for k = 1, #changes do
    local c = changes[k]
    local m, a = split_line(c)
    if a ~= '' then track = true end
    if first[m] == nil then
      first[m] = byte(c, 1)
      order[#order + 1] = m
    end
    last[m] = byte(c, 1)
    final_attrs[m] = a
  end
  local adds, removes, sadds, sremoves, sab, srb = {}, {}, {}, {}, {}, {}
  local attrs = nil
  if track then attrs = {set = {}, del = {}} end
  for k = 1, #order do
    local m = order[k]
    -- Present before iff the first change is a delete; after iff the last is an insert (43 '+').
    local before, after = first[m] ~= 43, last[m] == 43
    if after and not before then
      adds[#adds + 1] = m
      sadds[#sadds + 1], sab[#sab + 1] = to_subject(m)
    elseif before and not after then
      removes[#removes + 1] = m
      sremoves[#sremoves + 1], srb[#srb + 1] = to_subject(m)
    end
    if track then
      if after and final_attrs[m] ~= '' then
        attrs.set[#attrs.set + 1] = m
        attrs.set[#attrs.set + 1] = final_attrs[m]
      elseif before then
        attrs.del[#attrs.del + 1] = m
      end
    end
  end
  if track then
    -- A delete line names what it removed, attributes included.
    for k = 1, #changes do
      local c = changes[k]
      if byte(c, 1) == 45 and not find(c, '[', 2, true) then
        local old = redis.call('HGET', KEYS[6], sub(c, 2))
        if old then changes[k] = c .. old end
      end
    end
  end
  local joined = table.concat(changes, '\\n')
  return apply(epoch, retention, adds, sadds, sab, removes, sremoves, srb, attrs, joined, echo and joined or #changes)
end
`;

export interface ScriptDefinition {
  readonly numberOfKeys: number;
  readonly lua: string;
}

const writing = (body: string): ScriptDefinition => ({ numberOfKeys: 8, lua: `#!lua\n${PRELUDE}\n${body}` });
const reading = (body: string): ScriptDefinition => ({
  numberOfKeys: 8,
  lua: `#!lua flags=no-writes\n${PRELUDE}\n${body}`,
});

/**
 * A batch of writes, each atomic on its own, applied in order (group commit: concurrent writes
 * of one replica share one script call and one round trip). ARGV: epoch, retention, then per
 * write: the count of its args that follow, expectRevision ('' = any), #preconditions,
 * preconditions (op 'm'|'n' + 10 filter args each), then the updates: one string of their ops
 * (a character 'c'|'t'|'d' each), their by-resource members, their by-subject members and their
 * subject buckets (all computed by the client, so the script does no string work of its own
 * beyond the changelog's one concat), then 'a' and each update's attributes ('' for none), or ''
 * when no update has any.
 * Reply: one reply per write, in order: {'ok', revision, committedAtMs, a character per update:
 * '+' inserted, '-' deleted, '~' attributes replaced, '.' no change, and — when attributes are
 * in use — the changes as the changelog holds them} or {'epoch'|'revision'|'precondition'|
 * 'exists'|'error', ...}. A write that fails changes nothing and does not stop the next one;
 * each committed write has its own revision and changelog entry.
 */
const WRITE = writing(`
-- One write whose args start at ARGV[i] (its expectRevision); 'rev' is the store's revision now.
local function write_one(i, rev, at)
  if ARGV[i] ~= '' and tonumber(ARGV[i]) ~= rev then return {'revision', rev} end
  local failed
  failed, i = check_preconditions(i + 1)
  if failed then return failed end
  local ops = ARGV[i]
  local n = #ops
  local base, sbase, bbase, abase = i, i + n, i + 2 * n, i + 3 * n + 1
  local with_attrs = ARGV[abase] == 'a'
  -- Attributes are read and kept only when some relationship has them (the store's or this write's).
  local track = with_attrs or attrs_in_use()
  -- Whether each member is stored now (ZMSCORE in slices), then each update in order on top.
  local overlay = {}
  for k = 1, n, 1000 do
    local last = math.min(k + 999, n)
    local scores = redis.call('ZMSCORE', KEYS[1], unpack(ARGV, base + k, base + last))
    for j = k, last do overlay[ARGV[base + j]] = scores[j - k + 1] ~= false end
  end
  -- The attributes of each member as the updates go ('' for none), read from the hash on first use.
  local attr_now, attr_before = {}, {}
  local function attributes(m)
    local a = attr_now[m]
    if a == nil then
      a = redis.call('HGET', KEYS[6], m) or ''
      attr_now[m] = a
    end
    return a
  end
  local before, order, codes = {}, {}, {}
  local parts, np = {}, 0
  for u = 1, n do
    local op, m = byte(ops, u), ARGV[base + u]
    local present = overlay[m]
    if before[m] == nil then
      before[m] = present
      order[#order + 1] = u
      if track and present then attr_before[m] = attributes(m) end
    end
    if op == 100 then -- 'd'
      if present then
        parts[np + 1], parts[np + 2], parts[np + 3], parts[np + 4] = '-', m, track and attributes(m) or '', '\\n'
        np = np + 4
        codes[u] = '-'
      else
        codes[u] = '.'
      end
      overlay[m] = false
      if track then attr_now[m] = '' end
    else
      if present and op == 99 then return {'exists', u, m} end -- 'c'
      local new = with_attrs and ARGV[abase + u] or ''
      if not present then
        parts[np + 1], parts[np + 2], parts[np + 3], parts[np + 4] = '+', m, new, '\\n'
        np = np + 4
        codes[u] = '+'
      else
        local old = track and attributes(m) or ''
        if old ~= new then
          -- A touch replaces the attributes: the change set says so as a delete and an insert.
          parts[np + 1], parts[np + 2], parts[np + 3], parts[np + 4] = '-', m, old, '\\n'
          parts[np + 5], parts[np + 6], parts[np + 7], parts[np + 8] = '+', m, new, '\\n'
          np = np + 8
          codes[u] = '~'
        else
          codes[u] = '.'
        end
      end
      overlay[m] = true
      if track then attr_now[m] = new end
    end
  end
  parts[np] = nil
  local adds, sadds, sab, removes, sremoves, srb = {}, {}, {}, {}, {}, {}
  local attrs = nil
  if track then attrs = {set = {}, del = {}} end
  for k = 1, #order do
    local u = order[k]
    local m = ARGV[base + u]
    local was, is = before[m], overlay[m]
    if is and not was then
      adds[#adds + 1] = m
      sadds[#sadds + 1] = ARGV[sbase + u]
      sab[#sab + 1] = ARGV[bbase + u]
    elseif was and not is then
      removes[#removes + 1] = m
      sremoves[#sremoves + 1] = ARGV[sbase + u]
      srb[#srb + 1] = ARGV[bbase + u]
    end
    if track then
      local final = is and attr_now[m] or ''
      if final ~= '' then
        if final ~= attr_before[m] then
          attrs.set[#attrs.set + 1] = m
          attrs.set[#attrs.set + 1] = final
        end
      elseif (attr_before[m] or '') ~= '' then
        attrs.del[#attrs.del + 1] = m
      end
    end
  end
  local joined = table.concat(parts)
  local reply = apply(ARGV[1], ARGV[2], adds, sadds, sab, removes, sremoves, srb, attrs, joined, table.concat(codes), at)
  if track then reply[5] = joined end
  return reply
end

-- The epoch and the revision in one call: a batch of single-relationship writes makes few calls.
local er = redis.call('MGET', KEYS[4], KEYS[3])
local replies = {}
local i = 3
if er[1] ~= ARGV[1] then
  while i <= #ARGV do
    replies[#replies + 1] = {'epoch', er[1] or ''}
    i = i + 1 + tonumber(ARGV[i])
  end
  return replies
end
local rev = tonumber(er[2] or '0')
if seeding(rev) then
  while i <= #ARGV do
    replies[#replies + 1] = {'seeding'}
    i = i + 1 + tonumber(ARGV[i])
  end
  return replies
end
local at = now_ms()
while i <= #ARGV do
  -- A Lua error in one write (none is expected on valid input) fails that write, not the batch.
  local ok, reply = pcall(write_one, i + 1, rev, at)
  if not ok then reply = {'error', tostring(reply)} end
  if reply[1] == 'ok' then rev = reply[2] end
  replies[#replies + 1] = reply
  i = i + 1 + tonumber(ARGV[i])
end
return replies
`);

/** ARGV: epoch, retention, limit ('' = none), #preconditions, preconditions, the filter's 10 args. */
const DELETE_BY_FILTER = writing(`
local bad = check_epoch(ARGV[1])
if bad then return bad end
if seeding(current_revision()) then return {'seeding'} end
local failed, i = check_preconditions(4)
if failed then return failed end
local f = read_filter(i)
local limit = tonumber(ARGV[3])
local changes = {}
if limit == nil or limit > 0 then
  scan(f, nil, nil, function(m)
    changes[#changes + 1] = '-' .. m
    return limit ~= nil and #changes >= limit
  end)
end
return commit(ARGV[1], ARGV[2], changes, true)
`);

/**
 * Seeding in chunks, under a lease (KEYS[7], the seeder's id with a TTL) so replicas never
 * interleave: SEED_BEGIN takes or renews the lease, SEED_CLEAR removes an unfinished seed's data
 * a step at a time, SEED_CHUNK adds members, SEED_FINISH commits them all as revision 1. Until
 * then the store stays at revision 0, which reads see as empty and writes refuse ('seeding').
 * The first three take ARGV: epoch, seeder id, lease ms, then their own. Each step renews the
 * lease and fails with {'lost'} if another seeder holds it, {'seeded'} if the store has a revision.
 */
const SEED_PRELUDE = `
local function seed_guard(own)
  local bad = check_epoch(ARGV[1])
  if bad then return bad end
  if current_revision() ~= 0 then return {'seeded'} end
  local holder = redis.call('GET', KEYS[7])
  if own and holder ~= ARGV[2] then return {'lost'} end
  if not own and holder and holder ~= ARGV[2] then return {'held'} end
  redis.call('SET', KEYS[7], ARGV[2], 'PX', ARGV[3])
  return nil
end
`;

/** Reply {'ok', members left by an unfinished seed}, or {'held'} while another seeder's lease lives. */
const SEED_BEGIN = writing(`${SEED_PRELUDE}
local bad = seed_guard(false)
if bad then return bad end
return {'ok', redis.call('ZCARD', KEYS[1])}
`);

/** ARGV[4]: how many members to remove. Reply {'ok', members left}. */
const SEED_CLEAR = writing(`${SEED_PRELUDE}
local bad = seed_guard(true)
if bad then return bad end
local members = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[4]) - 1)
local subjects, buckets = {}, {}
for k = 1, #members do subjects[k], buckets[k] = to_subject(members[k]) end
call_sliced('ZREM', KEYS[1], members, false)
per_bucket('ZREM', subjects, buckets, false)
call_sliced('HDEL', KEYS[6], members, false)
return {'ok', redis.call('ZCARD', KEYS[1])}
`);

/** ARGV[4]: distinct members with their attributes, joined by newlines. Reply {'ok'}. */
const SEED_CHUNK = writing(`${SEED_PRELUDE}
local bad = seed_guard(true)
if bad then return bad end
local members, subjects, buckets, attrs = {}, {}, {}, {}
for line in string.gmatch(ARGV[4], '[^\\n]+') do
  local m, a = split_line('+' .. line)
  members[#members + 1] = m
  subjects[#members], buckets[#members] = to_subject(m)
  if a ~= '' then
    attrs[#attrs + 1] = m
    attrs[#attrs + 1] = a
  end
end
call_sliced('ZADD', KEYS[1], members, true)
per_bucket('ZADD', subjects, buckets, true)
call_sliced('HSET', KEYS[6], attrs, false)
return {'ok'}
`);

/**
 * ARGV: epoch, seeder id, retention. Commits the seeded members as revision 1: its changelog
 * entry has no changes but the flag s=1 (the seed is too large for one entry), so a reader of
 * it resyncs from a snapshot. Releases the lease. Reply {'ok', 1, committedAtMs}.
 */
const SEED_FINISH = writing(`
local bad = check_epoch(ARGV[1])
if bad then return bad end
if current_revision() ~= 0 then return {'seeded'} end
if redis.call('GET', KEYS[7]) ~= ARGV[2] then return {'lost'} end
local rev = redis.call('INCR', KEYS[3])
local at = now_ms()
append_change(ARGV[3], rev, {'e', ARGV[1], 't', at, 'c', '', 's', '1'}, '')
-- No changes on the feed (too many): 's' sends watchers to the changelog, which says resync.
redis.pcall('PUBLISH', KEYS[5] .. ':feed', rev .. ' ' .. ARGV[1] .. ' ' .. at .. ' s')
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
 * ARGV: the filter's 10 args, cursor (a scan position, '' = start), limit, scan budget, the most
 * by-subject buckets to visit. Reply: {revision, cursor ('' = none), members scanned (a decimal
 * string: an empty bucket counts 1/8), by-resource members...}. The step stops early (with a
 * cursor) once 'budget' members were scanned or 'max buckets' buckets visited, so neither a
 * sparse filter nor a walk over every bucket blocks Redis for long.
 */
const READ = reading(`
-- Revision 0 is the empty store; data there is an unfinished seed.
if current_revision() == 0 then return {0, '', '0'} end
local f = read_filter(1)
local limit, budget, max_buckets = tonumber(ARGV[12]), tonumber(ARGV[13]), tonumber(ARGV[14])
local out, last, more = {}, nil, false
local from = nil
if ARGV[11] ~= '' then from = ARGV[11] end
local stopped, exhausted, scanned = scan(f, from, budget, function(m, position)
  if #out == limit then more = true return true end
  out[#out + 1] = m
  last = position
  return false
end, max_buckets)
if exhausted then more = true last = stopped end
local reply = {current_revision(), more and last or '', tostring(scanned)}
with_attributes(out)
for k = 1, #out do reply[k + 3] = out[k] end
return reply
`);

/**
 * ARGV: epoch, after (by-resource member, '' = start), count. Reply {'ok', revision, members,
 * their attributes ('' for none; absent when no relationship has any)} or {'epoch', e}.
 */
const CHUNK = reading(`
local bad = check_epoch(ARGV[1])
if bad then return bad end
local lo = '-'
if ARGV[2] ~= '' then lo = '(' .. ARGV[2] end
-- Revision 0 is the empty store; data there is an unfinished seed.
if current_revision() == 0 then return {'ok', 0, {}} end
local members = redis.call('ZRANGEBYLEX', KEYS[1], lo, '+', 'LIMIT', 0, tonumber(ARGV[3]))
local reply = {'ok', current_revision(), members}
if attrs_in_use() then reply[4] = attributes_of(members) end
return reply
`);

/** The scripts by the command name RedisStore defines them under (EVALSHA with EVAL fallback). */
export const SCRIPTS = {
  gatehouseWrite: WRITE,
  gatehouseDeleteByFilter: DELETE_BY_FILTER,
  gatehouseSeedBegin: SEED_BEGIN,
  gatehouseSeedClear: SEED_CLEAR,
  gatehouseSeedChunk: SEED_CHUNK,
  gatehouseSeedFinish: SEED_FINISH,
  gatehouseIdentity: IDENTITY,
  gatehouseRollback: ROLLBACK,
  gatehouseRead: READ,
  gatehouseChunk: CHUNK,
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
