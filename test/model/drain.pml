/* drain.pml: a Promela model of the drained TCP read (net/fd.hpp D1-D5, runtime/netpoll.hpp
 * N6), checked with spin by test/model/check_drain.sh. polldesc.pml checks the rg protocol
 * with deadlines and close; this model adds what the drained read relies on: the kernel's
 * receive queue, its FIN, and edge-triggered epoll, and asks whether a reader that skips the
 * recv after a short read can wait for an edge that never comes.
 *
 *   Peer     sends NDATA bytes one at a time, then a FIN or nothing more. Each arrival is
 *            queued and then raises the socket's wakeup, which puts the epoll item on the
 *            ready list (one atomic step: a harvest between the two would see it anyway).
 *   Poller   harvests: takes the item off the ready list, then polls the socket (ep_item_poll
 *            after the removal, as ep_send_events does): IN if bytes or the FIN are there,
 *            RDHUP once the FIN arrived (it stays); nothing readable drops the event. Under
 *            pd->lock it sets nodrain for RDHUP (N6), then netpollunblock(ioready).
 *   Reader   NetFD::read in a loop until EOF, each call with a buffer of 1 or 2 bytes chosen
 *            anew: poll_prepare_read (drained and !nodrain: wait first, keeping pdReady; else
 *            rg = 0), then recv: bytes (a short read that empties the queue also takes a
 *            queued FIN, as tcp_recvmsg), 0 at the FIN, or EAGAIN, which waits and retries.
 *            drained = the last recv returned fewer bytes than asked.
 * The urgent mark and a reset are the FIN's shape again (a condition that stays, raised with
 * an edge whose harvest reports EPOLLPRI / EPOLLHUP / EPOLLERR), so the FIN stands for them.
 *
 * Checked (errors: 0): whenever nothing can move any more (Monitor: timeout), the reader has
 * every byte, and it has finished at EOF if the FIN came, or waits with nothing readable if it
 * did not; a reader left waiting with bytes or the FIN queued is a lost wakeup. The rg word
 * never holds anything but 0, pdReady, pdWait or the reader's token, and only I/O wakes it.
 * Mutants (spin must find the lost wakeup, which shows the model is not vacuous):
 *   MUTANT_NO_NODRAIN   the drained read ignores nodrain: data and FIN harvested together,
 *                       read short with the FIN, then waited for
 *   MUTANT_FULL_HINT    a read that filled the buffer also sets drained: bytes left behind
 */

#define ZERO   0
#define READY  1   /* pdReady */
#define WAIT   2   /* pdWait */
#define TOKEN  3   /* the reader, parked */

#define RUNNING  0
#define WAITING  1
#define RUNNABLE 2

#ifndef NDATA
#define NDATA 3
#endif

/* pollDesc */
byte rg = ZERO;
bit lock = 0;
bit nodrain = 0;
byte gstatus = RUNNING;

/* the socket */
byte q = 0;       /* bytes queued */
bit fin = 0;      /* the FIN arrived (RCV_SHUTDOWN: stays) */
bit finq = 0;     /* the FIN is still queued (not yet taken by a read) */
bit rdy = 0;      /* the epoll item is on the ready list */

byte got = 0;
bit reader_done = 0;

inline lock_pd() { atomic { lock == 0 -> lock = 1 } }
inline unlock_pd() { lock = 0 }

proctype Peer() {
  byte i = 0;
  do
  :: i < NDATA -> atomic { q++; rdy = 1 }; i++
  :: i == NDATA -> break
  od;
  if
  :: atomic { fin = 1; finq = 1; rdy = 1 }
  :: skip   /* the connection stays open */
  fi
}

proctype Poller() {
  bit rd, hup;
  byte old;
end_idle:
  do
  :: atomic { rdy == 1 -> rdy = 0; rd = (q > 0 || fin); hup = fin };
     if
     :: rd ->
        lock_pd();
        if
        :: hup -> nodrain = 1   /* N6: before rg moves */
        :: else -> skip
        fi;
        atomic {
          old = rg;
          if
          :: old == TOKEN -> rg = READY; assert(gstatus == WAITING); gstatus = RUNNABLE
          :: else -> rg = READY   /* 0, pdWait (its commit then fails) or pdReady */
          fi
        }
        unlock_pd()
     :: else -> skip   /* nothing readable at the harvest: the kernel reports nothing */
     fi
  od
}

proctype Reader() {
  bit drained = 0, wait = 0;
  byte b, n, old, parked;
  do
  :: /* one NetFD::read with a buffer of b bytes */
     if
     :: b = 1
     :: b = 2
     fi;
     /* poll_prepare_read */
#ifdef MUTANT_NO_NODRAIN
     if
     :: drained -> wait = 1
     :: else -> rg = ZERO; wait = 0
     fi;
#else
     if
     :: drained && !nodrain -> wait = 1   /* D1: the recv would fail: wait first */
     :: else -> rg = ZERO; wait = 0       /* poll_reset */
     fi;
#endif
     do
     :: wait ->   /* netpollblock + its park commit (no deadline or close here) */
        atomic {
          if
          :: rg == READY -> rg = ZERO; parked = 2   /* consume */
          :: rg == ZERO -> rg = WAIT; parked = 0
          :: else -> assert(0)                      /* double wait (N1) */
          fi
        }
        if
        :: parked == 0 ->
           gstatus = WAITING;
           atomic {
             if
             :: rg == WAIT -> rg = TOKEN; parked = 1
             :: else -> parked = 0   /* the word moved: the commit fails, no park */
             fi
           }
           if
           :: parked == 1 ->
end_wait:     (gstatus == RUNNABLE);   /* parked until goready */
              gstatus = RUNNING
           :: else -> gstatus = RUNNING
           fi;
           atomic { old = rg; rg = ZERO };
           assert(old == READY)   /* only I/O wakes this reader */
        :: else -> skip
        fi;
        wait = 0
     :: !wait ->   /* recv */
        atomic {
          if
          :: q > 0 ->
             n = (q < b -> q : b);
             q = q - n;
             if
             :: n < b && q == 0 && finq -> finq = 0   /* the FIN goes with the data */
             :: else -> skip
             fi
          :: q == 0 && fin -> n = 0; finq = 0        /* EOF */
          :: else -> n = 255                         /* EAGAIN */
          fi
        }
        if
        :: n == 255 -> wait = 1   /* park until ready, then try again */
        :: else -> break
        fi
     od;
     if
     :: n == 0 -> break   /* EOF */
     :: else ->
        got = got + n;
#ifdef MUTANT_FULL_HINT
        drained = 1
#else
        drained = (n < b)
#endif
     fi
  od;
  reader_done = 1
}

/* Monitor: when nothing can move, the reader is done (FIN) or waits with nothing to read. */
proctype Monitor() {
end_mon:
  timeout ->
  assert(q == 0);             /* bytes left queued: the reader waits for an edge in vain */
  assert(got == NDATA);
  assert(reader_done == fin)  /* FIN arrived but never read: the same */
}

init {
  atomic {
    run Peer();
    run Poller();
    run Reader();
    run Monitor()
  }
}
