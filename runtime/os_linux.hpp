// os_linux: what the scheduler needs from Linux — futex notes, clocks, alternate signal stacks.
// Follows Go's src/runtime/os_linux.go and lock_futex.go (notesleep/notewakeup).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace weft::detail {

// Note: a one-shot wakeup between two threads (Go's note). notewakeup may be called once between
// noteclears; notesleep returns after it. key: 0 clear, 1 woken. atomic: notewakeup's exchange
// (seq_cst) pairs with notesleep's load; data published before notewakeup is visible after
// notesleep returns.
struct Note {
  std::atomic<std::uint32_t> key{0};
};
void noteclear(Note* n);
void notewakeup(Note* n);
void notesleep(Note* n);
// notetsleep sleeps until woken or `ns` nanoseconds pass; true if woken.
bool notetsleep(Note* n, std::int64_t ns);

// nanotime: monotonic nanoseconds (CLOCK_MONOTONIC).
std::int64_t nanotime();

std::size_t page_size();

// signal_stack_install gives the calling thread an alternate signal stack (for the stack-overflow
// handler) and returns it; signal_stack_release undoes it.
void* signal_stack_install();
void signal_stack_release(void* stk);

// env_int reads an integer environment variable; `dflt` when unset or malformed.
long env_int(const char* name, long dflt);

}  // namespace weft::detail
