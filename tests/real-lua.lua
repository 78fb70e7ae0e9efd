-- real-lua.lua - drive a Lua 5.4 interpreter into a known heap and count
-- it from Lua itself (the oracle for tests/real-lua.sh and
-- bench/typing-real.sh).
--
--   lua5.4 real-lua.lua [N] < fifo
--
-- Builds N (default 50000) tables { name = "table-I", id = I } in the
-- global array `objs`, runs two full collections, then walks everything
-- reachable from the registry (the globals, package.loaded, the main
-- thread) through table keys and values, metatables, function upvalues,
-- userdata user values and metatables, and counts the distinct objects by
-- kind. The walk's own tables are dropped and collected again before the
-- counts are printed, so the heap then holds what was counted (plus the
-- interpreter's strings no Lua value reaches: reserved words, metamethod
-- names, the constants of loaded functions). Then it prints
--
--   lua tables T
--   lua strings S            short and long strings
--   lua lclosures L          Lua functions
--   lua cclosures C          C functions with upvalues (light C functions
--                            are not objects)
--   lua userdata U
--   lua threads H
--   lua bytes B              collectgarbage("count") * 1024: the bytes the
--                            interpreter has asked its allocator for
--   ready
--
-- and blocks in io.read() until its standard input ends. Lua has no
-- getpid; the test knows the pid of the process it started.
local N = tonumber(arg and arg[1]) or 50000

objs = {}
for i = 1, N do
	objs[i] = { name = "table-" .. i, id = i }
end

local main = debug.getinfo(1, "f").func

local function count()
	local seen = {}
	local n = { table = 0, string = 0, lclosure = 0, cclosure = 0, userdata = 0, thread = 0 }
	local stack, sp = {}, 0
	local function push(v)
		local t = type(v)
		if t == "nil" or t == "boolean" or t == "number" then
			return
		end
		if t == "function" and debug.getinfo(v, "S").what == "C" and
		    debug.getinfo(v, "u").nups == 0 then
			return		-- a light C function: a value, not an object
		end
		if seen[v] then
			return
		end
		seen[v] = true
		sp = sp + 1
		stack[sp] = v
	end
	push(debug.getregistry())
	push(main)		-- the running chunk and this function: only
	push(count)		-- the stack holds them
	while sp > 0 do
		local v = stack[sp]
		stack[sp] = nil
		sp = sp - 1
		local t = type(v)
		if t == "table" then
			n.table = n.table + 1
			for k, x in next, v do
				push(k)
				push(x)
			end
			push(debug.getmetatable(v))
		elseif t == "string" then
			n.string = n.string + 1
		elseif t == "function" then
			if debug.getinfo(v, "S").what == "C" then
				n.cclosure = n.cclosure + 1
			else
				n.lclosure = n.lclosure + 1
			end
			local i = 1
			while true do
				local name, x = debug.getupvalue(v, i)
				if not name then
					break
				end
				push(x)
				i = i + 1
			end
		elseif t == "userdata" then
			n.userdata = n.userdata + 1
			push(debug.getmetatable(v))
			local i = 1
			while true do
				local x, ok = debug.getuservalue(v, i)
				if not ok then
					break
				end
				push(x)
				i = i + 1
			end
		elseif t == "thread" then
			n.thread = n.thread + 1
		end
	end
	return n
end

collectgarbage("collect")
collectgarbage("collect")
local n = count()
local out = string.format("lua tables %d\nlua strings %d\nlua lclosures %d\n" ..
	"lua cclosures %d\nlua userdata %d\nlua threads %d\n",
	n.table, n.string, n.lclosure, n.cclosure, n.userdata, n.thread)
n = nil
collectgarbage("collect")
collectgarbage("collect")
-- stop the collector: nothing may change between the counts and the census
collectgarbage("stop")
io.write(out, string.format("lua bytes %d\nready\n", math.floor(collectgarbage("count") * 1024)))
io.flush()
io.read("a")
