/* switch_arm64_aapcs_elf_gas: weft's context switch for AArch64, AAPCS64, ELF, GNU as: make,
   jump and ontop (the interface of runtime/context.hpp; glue in runtime/context_asm.cpp).
   Go's equivalent is gogo/mcall in src/runtime/asm_arm64.s; the interface is Boost.Context's
   fcontext (make_fcontext, jump_fcontext, ontop_fcontext).

   A suspended context is its stack pointer, below which the switch saved the callee-saved
   state; the link register holds the resume address:

   -------------------------------------------------------------------------------------
   | offset | 0x00 | 0x08 | 0x10 | 0x18 | 0x20 | 0x28 | 0x30 | 0x38 |
   -------------------------------------------------------------------------------------
   |        | D8   | D9   | D10  | D11  | D12  | D13  | D14  | D15  |
   -------------------------------------------------------------------------------------
   | offset | 0x40 | 0x48 | 0x50 | 0x58 | 0x60 | 0x68 | 0x70 | 0x78 | 0x80 | 0x88 |
   -------------------------------------------------------------------------------------
   |        | X19  | X20  | X21  | X22  | X23  | X24  | X25  | X26  | X27  | X28  |
   -------------------------------------------------------------------------------------
   | offset | 0x90      | 0x98                        |
   -------------------------------------------------------------------------------------
   |        | X29 (FP)  | X30 (LR: the resume address) |
   -------------------------------------------------------------------------------------
   (0xa0 bytes: SP stays 16-byte aligned, as AAPCS64 requires at all times)

   Saved: what AAPCS64 says a called function must preserve — X19-X29, SP, and the low 64 bits
   of V8-V15 (D8-D15) — plus LR, the resume address. X18 (the platform register) is not used by
   Linux user space and is left alone, as by every Linux AArch64 switch (Boost, Go, glibc's
   swapcontext).

   FPCR is not saved, unlike x86-64's MXCSR: AAPCS64 (§6.1.2) does not make it callee-saved
   but a global register that only "specific support functions that affect the global state of
   the application" change, and FPSR's flags are not preserved across calls at all. Boost.Context
   and Go make the same choice here.

   Resuming (jump): BR to the resume address, not RET: a return is predicted from the return
   stack, which holds this switch's caller on the other stack; an indirect branch is predicted
   from where this switch resumed before. Ontop branches to its function with LR set, whose RET
   then balances the return stack. Both choices were measured on x86-64 (see the x86-64 file);
   on AArch64 they are tested for correctness only (under qemu-user).

   A fresh context (make) resumes in weft_ctx_trampoline with the entry function in X19. The
   trampoline is the bottom of every fiber's stack: its CFI marks the return address undefined
   and X29 is 0 there, so DWARF unwinders (libgcc, gdb) and frame-record walkers stop at it.

   Not claimed in a .note.gnu.property: BTI (a switch resumes with BR at an address that is
   not a landing pad) is not enabled by Debian's AArch64 toolchain; without the note the linker
   marks the program as not BTI-protected, which is the truth. */

#define CTX_D8 0x00
#define CTX_D10 0x10
#define CTX_D12 0x20
#define CTX_D14 0x30
#define CTX_X19 0x40
#define CTX_X21 0x50
#define CTX_X23 0x60
#define CTX_X25 0x70
#define CTX_X27 0x80
#define CTX_X29 0x90
#define CTX_X30 0x98
#define CTX_SIZE 0xa0

.text

/* SAVE: store the layout above below SP; leaves the old context in X9. The CFI describes a
   frame of this layout, which stays true across the stack switch: the context being resumed
   has the same layout at its stack pointer. */
.macro SAVE
    sub    sp, sp, #CTX_SIZE
    .cfi_adjust_cfa_offset CTX_SIZE
    stp    d8, d9, [sp, #CTX_D8]
    stp    d10, d11, [sp, #CTX_D10]
    stp    d12, d13, [sp, #CTX_D12]
    stp    d14, d15, [sp, #CTX_D14]
    stp    x19, x20, [sp, #CTX_X19]
    stp    x21, x22, [sp, #CTX_X21]
    stp    x23, x24, [sp, #CTX_X23]
    stp    x25, x26, [sp, #CTX_X25]
    stp    x27, x28, [sp, #CTX_X27]
    stp    x29, x30, [sp, #CTX_X29]
    .cfi_rel_offset d8, CTX_D8
    .cfi_rel_offset d9, CTX_D8 + 8
    .cfi_rel_offset d10, CTX_D10
    .cfi_rel_offset d11, CTX_D10 + 8
    .cfi_rel_offset d12, CTX_D12
    .cfi_rel_offset d13, CTX_D12 + 8
    .cfi_rel_offset d14, CTX_D14
    .cfi_rel_offset d15, CTX_D14 + 8
    .cfi_rel_offset x19, CTX_X19
    .cfi_rel_offset x20, CTX_X19 + 8
    .cfi_rel_offset x21, CTX_X21
    .cfi_rel_offset x22, CTX_X21 + 8
    .cfi_rel_offset x23, CTX_X23
    .cfi_rel_offset x24, CTX_X23 + 8
    .cfi_rel_offset x25, CTX_X25
    .cfi_rel_offset x26, CTX_X25 + 8
    .cfi_rel_offset x27, CTX_X27
    .cfi_rel_offset x28, CTX_X27 + 8
    .cfi_rel_offset x29, CTX_X29
    .cfi_rel_offset x30, CTX_X30
    mov    x9, sp
.endm

/* RESTORE to: move to the context `to`, load its registers (LR: its resume address) and pop
   the layout. */
.macro RESTORE to
    mov    sp, \to
    ldp    d8, d9, [sp, #CTX_D8]
    ldp    d10, d11, [sp, #CTX_D10]
    ldp    d12, d13, [sp, #CTX_D12]
    ldp    d14, d15, [sp, #CTX_D14]
    ldp    x19, x20, [sp, #CTX_X19]
    ldp    x21, x22, [sp, #CTX_X21]
    ldp    x23, x24, [sp, #CTX_X23]
    ldp    x25, x26, [sp, #CTX_X25]
    ldp    x27, x28, [sp, #CTX_X27]
    ldp    x29, x30, [sp, #CTX_X29]
    add    sp, sp, #CTX_SIZE
    .cfi_def_cfa_offset 0
    .cfi_restore d8
    .cfi_restore d9
    .cfi_restore d10
    .cfi_restore d11
    .cfi_restore d12
    .cfi_restore d13
    .cfi_restore d14
    .cfi_restore d15
    .cfi_restore x19
    .cfi_restore x20
    .cfi_restore x21
    .cfi_restore x22
    .cfi_restore x23
    .cfi_restore x24
    .cfi_restore x25
    .cfi_restore x26
    .cfi_restore x27
    .cfi_restore x28
    .cfi_restore x29
    .cfi_restore x30
.endm

/* Transfer weft_ctx_jump(Ctx to, void* data): suspend the caller, resume `to`, which receives
   {the caller's context, data} in X0:X1 (as its own jump's result, or as the trampoline's
   input for a fresh context). */
.globl weft_ctx_jump
.hidden weft_ctx_jump
.type weft_ctx_jump, %function
.balign 16
weft_ctx_jump:
    .cfi_startproc
    SAVE
    RESTORE x0
    mov    x0, x9
    br     x30
    .cfi_endproc
.size weft_ctx_jump, .-weft_ctx_jump

/* Transfer weft_ctx_ontop(Ctx to, void* data, Transfer (*fn)(Transfer)): suspend the caller,
   move to `to` and branch to fn({the caller's context, data}) with LR = `to`'s resume address,
   as if `to`'s pending switch had called fn: fn's result (X0:X1) becomes that switch's result,
   and an exception thrown by fn unwinds into `to`'s frames. fn's RET pops the return-stack
   entry that the call into this routine pushed (see the x86-64 file for why that beats calling
   fn). */
.globl weft_ctx_ontop
.hidden weft_ctx_ontop
.type weft_ctx_ontop, %function
.balign 16
weft_ctx_ontop:
    .cfi_startproc
    SAVE
    RESTORE x0
    mov    x0, x9
    br     x2
    .cfi_endproc
.size weft_ctx_ontop, .-weft_ctx_ontop

/* Ctx weft_ctx_make(void* top, size_t size, void (*fn)(Transfer)): a context on the stack
   below `top` (size is not needed here) that starts in weft_ctx_trampoline, which calls fn.
   When it starts, SP is top rounded down to 16. */
.globl weft_ctx_make
.hidden weft_ctx_make
.type weft_ctx_make, %function
.balign 16
weft_ctx_make:
    .cfi_startproc
    and    x0, x0, #~15
    sub    x0, x0, #CTX_SIZE
    stp    x2, xzr, [x0, #CTX_X19]
    adr    x3, weft_ctx_trampoline
    stp    xzr, x3, [x0, #CTX_X29]
    ret
    .cfi_endproc
.size weft_ctx_make, .-weft_ctx_make

/* weft_ctx_trampoline: where a fresh context starts, with the transfer in X0:X1 and X29 = 0.
   Calls fn(transfer); fn must never return (weft's fiber_entry ends by switching away for
   good), so a return traps. The outermost frame of every fiber stack. */
.type weft_ctx_trampoline, %function
.balign 16
weft_ctx_trampoline:
    .cfi_startproc
    .cfi_undefined x30
    blr    x19
    brk    #0x1
    .cfi_endproc
.size weft_ctx_trampoline, .-weft_ctx_trampoline

.section .note.GNU-stack,"",%progbits
