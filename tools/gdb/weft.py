# weft.py: gdb commands for weft programs — list every fiber, and show a parked fiber's stack.
# Follows Go's src/runtime/runtime-gdb.py (info goroutines, goroutine N bt).
#
# Load it with `gdb -x tools/gdb/weft.py PROGRAM` (or `source` it, or add it to ~/.gdbinit).
# libweft is always built with debug information (meson.build), which is what these commands
# read: the list of live runtimes (weft::detail::allsched), each runtime's allgs, and each G.
#
#   info weft-fibers          every fiber of every live runtime: id, state or wait reason,
#                             minutes waited, the thread it runs on or is locked to, spawn site
#   weft-fiber N [CMD...]     run CMD (default: bt) as if fiber N were the current frame
#   weft-fiber all [CMD...]   the same for every fiber
# `info fibers` and `fiber` are aliases (the names in DESIGN.md).
#
# How a parked fiber's stack is shown: its saved context (G::ctx) is the stack pointer where
# the switch saved its callee-saved registers. On x86-64 SysV the block is the same for both
# backends (asm/switch_x86_64_sysv_elf_gas.S, the default, and boost/context's
# jump_x86_64_sysv_elf_gas.S of -Dcontext=boost):
#     +0x00 mxcsr, x87 control word   +0x08 r12   +0x10 r13   +0x18 r14   +0x20 r15
#     +0x28 rbx   +0x30 rbp   +0x38 return address;   the caller's rsp after return: +0x40
# The command selects the innermost frame of the current thread, sets its registers to those
# values (the state just after jump_fcontext returned into the fiber), runs CMD, and puts every
# register back, so the thread is left as it was. This needs a live process (not a core file).
# A fiber that is running is shown on its own thread instead.

import gdb

_CTX_REGS = [("r12", 0x08), ("r13", 0x10), ("r14", 0x18), ("r15", 0x20), ("rbx", 0x28),
             ("rbp", 0x30)]
_CTX_PC = 0x38
_CTX_SIZE = 0x40

_WAIT_REASONS = {
    "none": "",
    "park": "park",
    "io_wait": "IO wait",
    "chan_receive": "chan receive",
    "chan_send": "chan send",
    "select": "select",
    "sleep": "sleep",
    "mutex_lock": "sync.Mutex.Lock",
    "blocking": "blocking call",
    "chan_send_nil": "chan send (nil chan)",
    "chan_receive_nil": "chan receive (nil chan)",
    "select_no_cases": "select (no cases)",
    "rwmutex_rlock": "sync.RWMutex.RLock",
    "rwmutex_lock": "sync.RWMutex.Lock",
    "waitgroup_wait": "sync.WaitGroup.Wait",
    "cond_wait": "sync.Cond.Wait",
    "semacquire": "semacquire",
}  # wait_reason_name in runtime/proc.cpp; a reason missing here shows as its enumerator


def _enum_name(v):
    s = str(v)
    return s.rsplit("::", 1)[-1]


def _vector(v):
    impl = v["_M_impl"]
    start, finish = impl["_M_start"], impl["_M_finish"]
    return [(start + i).dereference() for i in range(int(finish - start))]


def _scheds():
    # A global lookup, not parse_and_eval: the selected frame may be in C code (a signal
    # handler, libc), where `weft::detail::allsched` does not parse.
    sym = gdb.lookup_global_symbol("weft::detail::allsched")
    if sym is None:
        raise gdb.GdbError("weft: no weft runtime symbols in this program; is libweft linked in "
                           "and built with debug information?")
    s = sym.value()
    out = []
    while int(s) != 0:
        out.append(s)
        s = s["allsched_next"]
    return out


def _live_gs():
    """(sched index, G*) for every fiber that is not free, in allgs order."""
    result = []
    for i, s in enumerate(_scheds()):
        for gp in _vector(s["allgs"]):
            st = _enum_name(gp["status"]["_M_i"])
            if st not in ("idle", "dead"):
                result.append((i, gp))
    return result


def _thread_of_m(mp):
    """The gdb thread running M mp (matched by pthread_t), or None."""
    pt = int(mp["thread"]["_M_id"]["_M_thread"])
    for t in gdb.selected_inferior().threads():
        try:
            if int.from_bytes(t.handle(), "little") == pt:
                return t
        except (gdb.error, AttributeError):
            pass
    return None


def _describe(gp, sched):
    st = _enum_name(gp["status"]["_M_i"])
    if st == "waiting":
        what = _WAIT_REASONS.get(_enum_name(gp["wait_reason"]), _enum_name(gp["wait_reason"]))
        since = int(gp["wait_since"])
        now = int(sched["coarse_now"]["_M_i"])
        if since > 0 and now > since and (now - since) // 60000000000 > 0:
            what += ", %d minutes" % ((now - since) // 60000000000)
    elif st == "syscall":
        what = "blocking call"
    else:
        what = st
    if st in ("running", "syscall") and int(gp["m"]) != 0:
        mp = gp["m"]
        t = _thread_of_m(mp)
        what += ", on M%d" % int(mp["id"]) + (" (thread %d)" % t.num if t else "")
    if int(gp["lockedm"]) != 0:
        what += ", locked to thread M%d" % int(gp["lockedm"]["id"])
    site = "%s:%d" % (gp["spawn_file"].string(), int(gp["spawn_line"]))
    return "fiber %d [%s]: spawned at %s" % (int(gp["id"]), what, site)


class InfoWeftFibers(gdb.Command):
    """List every fiber of every live weft runtime (like weft::dump_fibers)."""

    def __init__(self, name):
        super().__init__(name, gdb.COMMAND_STACK)

    def invoke(self, arg, from_tty):
        scheds = _scheds()
        if not scheds:
            print("no live weft runtime")
            return
        gs = _live_gs()
        for i, gp in gs:
            prefix = "runtime %d: " % (i + 1) if len(scheds) > 1 else ""
            print(prefix + _describe(gp, scheds[i]))


def _regs_x86_64():
    arch = gdb.selected_frame().architecture().name()
    if arch != "i386:x86-64":
        raise gdb.GdbError("weft-fiber: parked fibers can be unwound on x86-64 only (this is %s)"
                           % arch)


def _run_on_saved_context(gp, cmd):
    _regs_x86_64()
    ctx = int(gp["ctx"])
    inf = gdb.selected_inferior()
    word = lambda off: int.from_bytes(inf.read_memory(ctx + off, 8).tobytes(), "little")
    values = {name: word(off) for name, off in _CTX_REGS}
    values["rip"] = word(_CTX_PC)
    values["rsp"] = ctx + _CTX_SIZE
    frame = gdb.selected_frame()
    gdb.newest_frame().select()
    saved = {r: int(gdb.parse_and_eval("$" + r)) for r in values}
    try:
        for r, v in values.items():
            gdb.execute("set $%s = %#x" % (r, v), to_string=True)
        gdb.execute(cmd)
    finally:
        for r, v in saved.items():
            gdb.execute("set $%s = %#x" % (r, v), to_string=True)
        try:
            frame.select()
        except gdb.error:
            gdb.newest_frame().select()


def _fiber_cmd(gp, cmd):
    st = _enum_name(gp["status"]["_M_i"])
    gid = int(gp["id"])
    if st in ("running", "syscall"):
        t = _thread_of_m(gp["m"]) if int(gp["m"]) != 0 else None
        if t is None:
            print("fiber %d is %s, but its thread was not found" % (gid, st))
            return
        prev = gdb.selected_thread()
        t.switch()
        try:
            gdb.execute(cmd)
        finally:
            prev.switch()
        return
    if not bool(gp["started"]):
        print("fiber %d has not started running yet (it will start in its function)" % gid)
        return
    _run_on_saved_context(gp, cmd)


class WeftFiber(gdb.Command):
    """weft-fiber N|all [CMD]: run CMD (default: bt) on fiber N's stack, or on every fiber's.

For a parked or runnable fiber the command sees the registers the fiber saved when it switched
out; for a running fiber it runs on the fiber's thread."""

    def __init__(self, name):
        super().__init__(name, gdb.COMMAND_STACK)

    def invoke(self, arg, from_tty):
        argv = arg.split(None, 1)
        if not argv:
            raise gdb.GdbError("usage: weft-fiber N|all [CMD]")
        cmd = argv[1] if len(argv) > 1 else "bt"
        gs = _live_gs()
        if argv[0] == "all":
            targets = gs
        else:
            try:
                want = int(argv[0])
            except ValueError:
                raise gdb.GdbError("weft-fiber: %r is not a fiber id" % argv[0])
            targets = [(i, gp) for i, gp in gs if int(gp["id"]) == want]
            if not targets:
                raise gdb.GdbError("weft-fiber: no live fiber %d" % want)
        scheds = _scheds()
        for i, gp in targets:
            print(_describe(gp, scheds[i]))
            _fiber_cmd(gp, cmd)
            print()


InfoWeftFibers("info weft-fibers")
InfoWeftFibers("info fibers")
WeftFiber("weft-fiber")
WeftFiber("fiber")
