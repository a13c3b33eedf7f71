// trace: WEFT_TRACE=path.json, the Chrome trace-event writer (see trace.hpp for what it records).
// Go's analogue is src/runtime/trace.go.
#include "trace.hpp"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "debug.hpp"
#include "proc.hpp"

namespace weft::detail {

// Trace: one runtime's trace file. Lock order: buf_lock, then file_lock.
struct Trace {
  std::mutex file_lock;    // guards f and first
  std::FILE* f = nullptr;  // the open file
  bool first = true;       // no event written yet (the next one needs no comma)
  int pid = 0;             // fixed
  std::int64_t t0 = 0;     // trace_now() at open; timestamps are relative to it; fixed
  std::mutex buf_lock;     // guards the two shared buffers
  std::unique_ptr<TraceBuf> sysmon = std::make_unique<TraceBuf>();
  std::unique_ptr<TraceBuf> other = std::make_unique<TraceBuf>();
};

namespace {

// Runtimes in this process that opened a trace so far: names the second one's file path.2.
std::atomic<int> g_traces{0};

// Out: formats events into a local buffer with hand-written conversions (printf's cost
// dominated tracing) and hands full buffers to the file. file_lock must be held.
class Out {
 public:
  explicit Out(std::FILE* f) : f_(f) {}
  ~Out() { flush(); }
  Out(const Out&) = delete;
  Out& operator=(const Out&) = delete;

  Out& str(const char* s) {
    while (*s) chr(*s++);
    return *this;
  }
  // json writes s as the body of a JSON string: quotes, backslashes and control characters
  // escaped.
  Out& json(const char* s) {
    for (; *s; ++s) {
      unsigned char c = static_cast<unsigned char>(*s);
      if (c == '"' || c == '\\') {
        chr('\\').chr(char(c));
      } else if (c < 0x20) {
        str("\\u00").chr(kHex[c >> 4]).chr(kHex[c & 15]);
      } else {
        chr(char(c));
      }
    }
    return *this;
  }
  Out& num(std::uint64_t v) {
    char tmp[24];
    char* end = put_u64(tmp, v);
    for (char* p = tmp; p < end; ++p) chr(*p);
    return *this;
  }
  Out& num(std::int64_t v) {
    if (v < 0) {
      chr('-');
      return num(std::uint64_t(-(v + 1)) + 1);
    }
    return num(std::uint64_t(v));
  }
  Out& num(int v) { return num(std::int64_t(v)); }
  Out& num(unsigned v) { return num(std::uint64_t(v)); }
  // micros writes ns as microseconds with three decimals (the trace format's unit).
  Out& micros(std::int64_t ns) {
    if (ns < 0) {
      chr('-');
      ns = -ns;
    }
    num(std::uint64_t(ns / 1000)).chr('.');
    std::int64_t frac = ns % 1000;
    return chr(char('0' + frac / 100)).chr(char('0' + frac / 10 % 10)).chr(char('0' + frac % 10));
  }
  Out& chr(char c) {
    if (n_ == sizeof buf_) flush();
    buf_[n_++] = c;
    return *this;
  }
  void flush() {
    if (n_) std::fwrite(buf_, 1, n_, f_);
    n_ = 0;
  }

 private:
  static constexpr char kHex[] = "0123456789abcdef";
  std::FILE* f_;
  std::size_t n_ = 0;
  char buf_[16384];
};

const char* basename_of(const char* path) {
  const char* slash = std::strrchr(path, '/');
  return slash ? slash + 1 : path;
}

// begin_event writes the separator and the fields every event has; file_lock must be held.
void begin_event(Trace* t, Out& o, const char* ph, int tid, std::int64_t ts) {
  o.str(t->first ? "\n" : ",\n");
  t->first = false;
  o.str("{\"ph\":\"").str(ph).str("\",\"pid\":").num(t->pid).str(",\"tid\":").num(tid);
  o.str(",\"ts\":").micros(ts - t->t0);
}

void name_track(Trace* t, int tid, const char* name, int sort) {
  std::lock_guard<std::mutex> lk(t->file_lock);
  Out o(t->f);
  o.str(t->first ? "\n" : ",\n");
  t->first = false;
  o.str("{\"ph\":\"M\",\"pid\":").num(t->pid).str(",\"tid\":").num(tid);
  o.str(",\"name\":\"thread_name\",\"args\":{\"name\":\"").json(name).str("\"}},\n");
  o.str("{\"ph\":\"M\",\"pid\":").num(t->pid).str(",\"tid\":").num(tid);
  o.str(",\"name\":\"thread_sort_index\",\"args\":{\"sort_index\":").num(sort).str("}}");
}

void write_event(Trace* t, Out& o, int tid, const TraceEvent& e) {
  const char* site = e.site ? e.site : "";
  switch (e.kind) {
    case TraceEv::run_begin:
      begin_event(t, o, "B", tid, e.ts);
      o.str(",\"cat\":\"fiber\",\"name\":\"G").num(e.g).chr(' ').json(basename_of(site));
      // The full spawn path is in the fiber's spawn event; each run carries the short name.
      o.chr(':').num(e.line).str("\",\"args\":{\"fiber\":").num(e.g).str("}}");
      return;
    case TraceEv::run_end:
      begin_event(t, o, "E", tid, e.ts);
      o.str(",\"args\":{\"fiber\":").num(e.g).str("}}");
      return;
    default:
      break;
  }
  if (e.kind == TraceEv::flush) {
    begin_event(t, o, "X", tid, e.ts);
    o.str(",\"dur\":")
        .micros(std::int64_t(e.arg))
        .str(",\"cat\":\"trace\",\"name\":\"trace flush\"}");
    return;
  }
  begin_event(t, o, "i", tid, e.ts);
  o.str(",\"s\":\"t\",\"cat\":\"sched\",\"name\":\"");
  switch (e.kind) {
    case TraceEv::spawn:
      o.str("spawn\",\"args\":{\"fiber\":").num(e.g);
      o.str(",\"spawn\":\"").json(site).chr(':').num(e.line).chr('"');
      break;
    case TraceEv::park:
      o.str("park\",\"args\":{\"fiber\":").num(e.g).str(",\"reason\":\"");
      o.json(wait_reason_name(static_cast<WaitReason>(e.arg))).chr('"');
      break;
    case TraceEv::park_cancel:
      o.str("park_cancel\",\"args\":{\"fiber\":").num(e.g);
      break;
    case TraceEv::ready:
      o.str("ready\",\"args\":{\"fiber\":").num(e.g);
      break;
    case TraceEv::steal:
      o.str("steal\",\"args\":{\"fiber\":").num(e.g).str(",\"from_p\":").num(e.arg);
      break;
    case TraceEv::netpoll:
      o.str("netpoll\",\"args\":{\"ready\":").num(e.arg);
      break;
    case TraceEv::handoff:
      o.str("handoff\",\"args\":{\"p\":").num(e.arg).str(",\"why\":\"");
      o.str(e.line ? "hog" : "blocking call").chr('"');
      break;
    default:
      o.str("?\",\"args\":{");
      break;
  }
  o.str("}}");
}

void flush_locked(TraceBuf* b) {  // file_lock held
  Out o(b->trace->f);
  for (std::uint32_t i = 0; i < b->n; ++i) write_event(b->trace, o, b->tid, b->ev[i]);
  b->n = 0;
}

}  // namespace

std::int64_t trace_now() { return nanotime(); }

Trace* trace_open() {
  const char* path = std::getenv("WEFT_TRACE");
  if (!path || !*path) return nullptr;
  int nth = g_traces.fetch_add(1) + 1;
  std::string name = path;
  if (nth > 1) {
    char suffix[16];
    std::snprintf(suffix, sizeof suffix, ".%d", nth);
    name += suffix;
  }
  std::FILE* f = std::fopen(name.c_str(), "w");
  if (!f) {
    std::fprintf(stderr, "weft: WEFT_TRACE: cannot open %s: %s (not tracing)\n", name.c_str(),
                 std::strerror(errno));
    return nullptr;
  }
  auto* t = new Trace;
  t->f = f;
  t->pid = int(getpid());
  t->t0 = trace_now();
  std::setvbuf(f, nullptr, _IOFBF, 1 << 16);
  {
    std::lock_guard<std::mutex> lk(t->file_lock);
    Out o(f);
    o.str("[\n{\"ph\":\"M\",\"pid\":").num(t->pid);
    o.str(",\"tid\":0,\"name\":\"process_name\",\"args\":{\"name\":\"weft runtime ");
    o.num(nth).str("\"}}");
    t->first = false;
  }
  t->sysmon->trace = t->other->trace = t;
  t->sysmon->tid = kTraceSysmonTid;
  t->other->tid = kTraceOtherTid;
  name_track(t, kTraceSysmonTid, "sysmon", kTraceSysmonTid);
  name_track(t, kTraceOtherTid, "other threads", kTraceOtherTid);
  return t;
}

TraceBuf* trace_m_buf(Trace* t, int mid) {
  auto* b = new TraceBuf;
  b->trace = t;
  b->tid = mid;
  char name[32];
  std::snprintf(name, sizeof name, "M%d", mid);
  name_track(t, mid, name, mid);
  return b;
}

void trace_flush(TraceBuf* b) {
  std::int64_t start = trace_now();
  {
    std::lock_guard<std::mutex> lk(b->trace->file_lock);
    flush_locked(b);
  }
  b->ev[b->n++] =
      TraceEvent{start, 0, std::uint64_t(trace_now() - start), nullptr, 0, TraceEv::flush};
}

void trace_event_other(Trace* t, int tid, TraceEv kind, std::uint64_t g, std::uint64_t arg,
                       const char* site, std::uint32_t line) {
  std::lock_guard<std::mutex> lk(t->buf_lock);
  trace_event(tid == kTraceSysmonTid ? t->sysmon.get() : t->other.get(), kind, g, arg, site, line);
}

void trace_close(Sched* s) {
  Trace* t = s->trace;
  if (!t) return;
  s->trace = nullptr;
  {
    std::lock_guard<std::mutex> bl(t->buf_lock);
    std::lock_guard<std::mutex> lk(t->file_lock);
    for (M* m : s->allm) {
      if (m->trace) flush_locked(m->trace);
      delete m->trace;
      m->trace = nullptr;
    }
    flush_locked(t->sysmon.get());
    flush_locked(t->other.get());
    std::fputs("\n]\n", t->f);
    if (std::fclose(t->f) != 0) {
      std::fprintf(stderr, "weft: WEFT_TRACE: writing the trace failed: %s\n",
                   std::strerror(errno));
    }
  }
  delete t;
}

}  // namespace weft::detail
