// detail/chan: what the channel and select templates need from the runtime, as declarations
// only (runtime/chan.cpp and runtime/select.cpp implement them on a type-erased hchan).
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace weft {

// closed_channel is thrown by a send on a closed channel, a close of a closed channel and a close
// of a nil channel (Go panics in all three). The value being sent stays with the caller.
class closed_channel : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

}  // namespace weft

namespace weft::detail {

struct Hchan;

// ElemOps moves and destroys a channel's element type. Moves run with the channel locked, so a
// throwing move constructor ends the program (std::terminate), as a failed memmove would.
struct ElemOps {
  void (*move_construct)(void* dst, void* src) noexcept;  // dst uninitialized; src stays valid
  void (*destroy)(void* p) noexcept;
};

template <class T>
struct ElemOpsFor {
  static void move_construct(void* dst, void* src) noexcept {
    ::new (dst) T(std::move(*static_cast<T*>(src)));
  }
  static void destroy(void* p) noexcept { static_cast<T*>(p)->~T(); }
  static constexpr ElemOps ops{&move_construct, &destroy};
};

// makechan allocates a channel of `cap` elements of the given size and alignment with one
// reference. Go's makechan.
Hchan* makechan(const ElemOps* ops, std::size_t size, std::size_t align, std::size_t cap);
void chan_retain(Hchan* c) noexcept;
void chan_release(Hchan* c) noexcept;

// chansend moves *elem into c. block: park until it can; otherwise return false when it
// cannot at once. A nil c never proceeds (blocks forever, which deadlock detection reports).
// Throws closed_channel when c is or becomes closed; *elem is then left unmoved.
bool chansend(Hchan* c, void* elem, bool block);

struct RecvResult {
  bool selected;  // an element was taken, or the channel was closed and drained
  bool received;  // elem now holds a constructed value (false: closed and drained)
};
// chanrecv move-constructs the next element into the uninitialized storage at elem.
RecvResult chanrecv(Hchan* c, void* elem, bool block);

// closechan closes c, waking every receiver (nothing received) and every sender (they throw).
void closechan(Hchan* c);
std::size_t chanlen(const Hchan* c) noexcept;
std::size_t chancap(const Hchan* c) noexcept;

// SelectCase is one channel case of a select. elem: for a send the value, for a receive
// uninitialized storage. A case with c == nullptr is never ready.
struct SelectCase {
  Hchan* c;
  void* elem;
  bool send;
};

struct SelectResult {
  int index;      // the case chosen; n for the timeout; -1 when nothing was ready and !block
  bool received;  // for a receive case: a value was stored in its elem
};

// selectgo runs Go's select over cases[0..n): if some are ready it picks one uniformly at random;
// otherwise, when block is false it returns -1, else it parks until one is ready or, if
// when_ns > 0, until nanotime() reaches when_ns (then it returns index n). A send case on a
// closed channel throws closed_channel. `scratch` holds 2n entries.
SelectResult selectgo(SelectCase* cases, int n, std::uint16_t* scratch, std::int64_t when_ns,
                      bool block);

}  // namespace weft::detail
