/* polldesc.pml: a Promela model of the pollDesc rg protocol (runtime/netpoll.cpp; states and
 * invariants N1-N5 in runtime/netpoll.hpp), checked with spin by test/model/check_polldesc.sh.
 * Follows Go's src/runtime/netpoll.go (netpollblock, netpollblockcommit, netpollunblock).
 *
 * One fiber (Waiter) reads: poll_wait = netpollcheckerr, then netpollblock in a loop; it waits
 * twice in a row, so a word left dirty by the first wait would show in the second. Three wakers
 * run concurrently with it, each under pd->lock as in netpoll.cpp:
 *   IO        netpollready: up to NIO edge-triggered read events -> netpollunblock(ioready)
 *   Deadline  deadline_fired: may fire once -> rd expired, netpollunblock(!ioready)
 *   Close     poll_unblock: closing, netpollunblock(!ioready); always happens
 * wg is the same code on another word, so one word is modelled. Every CAS, exchange and load
 * in the code is one atomic step here; the two CASes at the top of netpollblock are separate
 * steps, as in the code. gopark is modelled as park_m: status = waiting, then the commit
 * (unlockf), which publishes the G's token or fails; goready checks what Go's casgstatus does.
 *
 * Checked (errors: 0 in the safety run; no acceptance cycle in the liveness run):
 *   - no lost wakeup: the Waiter never stays parked with every waker gone (an invalid end
 *     state in the safety run) and always finishes (ltl waiter_finishes, weak fairness);
 *   - no wakeup of the wrong G: goready is only ever given the token of the current park;
 *   - a G readied at most once per park (N2), only while waiting (P1);
 *   - no double wait (N1): netpollblock only ever finds 0 or pdReady in the word;
 *   - the word is never left holding a G token after a wake ("corrupted pollDesc").
 * MUTANT_NO_COMMIT_CAS: the commit stores the G without its CAS (pdWait -> G*). A wakeup that
 * arrives between netpollblock's pdWait and the commit is then lost; the check expects spin to
 * find it, which shows the model is not vacuous.
 */

#define ZERO   0
#define READY  1   /* pdReady */
#define WAIT   2   /* pdWait */
/* 3, 4, ...: a parked G, a new token for every park (the same G parks again) */

#define RUNNING  0
#define WAITING  1
#define RUNNABLE 2

#ifndef NIO
#define NIO 2
#endif

byte rg = ZERO;
bit lock = 0;           /* pd->lock */
bit closing = 0;        /* pd->closing, guarded by lock */
bit info_closing = 0;   /* pd->info as netpollcheckerr reads it, without the lock */
bit info_rdexp = 0;
byte gstatus = RUNNING;
byte curtoken = 0;      /* the token the G is parked with, 0 while not parked */
bit waiter_done = 0;

inline lock_pd() { atomic { lock == 0 -> lock = 1 } }
inline unlock_pd() { lock = 0 }

/* goready: casgstatus(waiting -> runnable) must succeed, for the G that parked. */
inline goready(g) {
  atomic {
    assert(g == curtoken);      /* the right G, in its current park */
    assert(gstatus == WAITING); /* once per park, and only once parked */
    gstatus = RUNNABLE
  }
}

/* netpollunblock(ioready): the G to ready, in gp (0: none). */
inline netpollunblock(ioready, gp) {
  gp = 0;
  do
  :: old = rg;
     if
     :: old == READY -> break
     :: old == ZERO && !ioready -> break
     :: else ->
        atomic {
          if
          :: rg == old ->
             rg = (ioready -> READY : ZERO);
             gp = (old > WAIT -> old : 0);
             ok = 1
          :: else -> ok = 0
          fi
        }
        if
        :: ok -> break
        :: else -> skip
        fi
     fi
  od
}

proctype Waiter() {
  byte v, old, tok = 3, waits = 0;
  bit ioready, parked;
again:
  /* poll_wait: netpollcheckerr first */
  if
  :: info_closing || info_rdexp -> goto done_wait
  :: else -> skip
  fi;
block:
  /* netpollblock(pd, 'r', waitio = false) */
  do
  :: atomic { v = rg; if :: rg == READY -> rg = ZERO :: else -> skip fi }
     if
     :: v == READY -> ioready = 1; goto returned
     :: else -> skip
     fi;
     atomic { v = rg; if :: rg == ZERO -> rg = WAIT :: else -> skip fi }
     if
     :: v == ZERO -> break
     :: else -> assert(v == READY)   /* anything else is "double wait" (N1) */
     fi
  od;
  /* N4: errors re-checked after publishing pdWait */
  if
  :: !(info_closing || info_rdexp) ->
     gstatus = WAITING;   /* park_m, on g0, the G's context saved */
#ifdef MUTANT_NO_COMMIT_CAS
     atomic { curtoken = tok; rg = tok; parked = 1 }
#else
     atomic {             /* netpollblockcommit: CAS pdWait -> G* */
       if
       :: rg == WAIT -> curtoken = tok; rg = tok; parked = 1
       :: else -> parked = 0
       fi
     }
#endif
     tok++;
     if
     :: parked ->
        (gstatus == RUNNABLE);  /* parked until goready */
        atomic { curtoken = 0; gstatus = RUNNING }
     :: else -> gstatus = RUNNING   /* unlockf returned false: runs again at once */
     fi
  :: else -> skip
  fi;
  atomic { old = rg; rg = ZERO };  /* exchange(0): a concurrent pdReady is not lost */
  assert(old <= WAIT);             /* "corrupted pollDesc": no G left in the word */
  ioready = (old == READY);
returned:
  if
  :: ioready -> skip                /* I/O is ready: this wait is over */
  :: else ->
     if
     :: info_closing || info_rdexp -> skip
     :: else -> goto block          /* woken without readiness or error: wait again */
     fi
  fi;
done_wait:
  ioready = 0;
  waits++;
  if
  :: waits < 2 -> goto again
  :: else -> skip
  fi;
  waiter_done = 1
}

proctype IO() {   /* netpollready: fdseq check under the lock (N5), then netpollunblock */
  byte old, gp, i = 0;
  bit ok;
  do
  :: i < NIO ->
     lock_pd();
     if
     :: !closing -> netpollunblock(1, gp)
     :: else -> gp = 0
     fi;
     unlock_pd();
     if
     :: gp != 0 -> goready(gp)
     :: else -> skip
     fi;
     i++
  :: i < NIO -> break   /* no more events */
  :: i == NIO -> break
  od
}

proctype Deadline() {   /* deadline_fired; after a close its sequence number is stale */
  byte old, gp;
  bit ok;
  if
  :: lock_pd();
     if
     :: !closing -> info_rdexp = 1; netpollunblock(0, gp)
     :: else -> gp = 0
     fi;
     unlock_pd();
     if
     :: gp != 0 -> goready(gp)
     :: else -> skip
     fi
  :: skip   /* no deadline, or it never expires */
  fi
}

proctype Close() {   /* poll_unblock */
  byte old, gp;
  bit ok;
  lock_pd();
  closing = 1;
  info_closing = 1;
  netpollunblock(0, gp);
  unlock_pd();
  if
  :: gp != 0 -> goready(gp)
  :: else -> skip
  fi
}

init {
  atomic {
    run Waiter();
    run IO();
    run Deadline();
    run Close()
  }
}

ltl waiter_finishes { <> waiter_done }
