/* switch_x86_64_sysv_elf_gas: weft's context switch for x86-64, System V ABI, ELF, GNU as:
   make, jump and ontop (the interface of runtime/context.hpp; glue in runtime/context_asm.cpp).
   Go's equivalent is gogo/mcall in src/runtime/asm_amd64.s; the interface is Boost.Context's
   fcontext (make_fcontext, jump_fcontext, ontop_fcontext).

   A suspended context is its stack pointer. The switch pushes the callee-saved state below the
   return address of the call that suspended it:

   -------------------------------------------------------------------------------------
   | offset | 0x00  | 0x04   | 0x08 | 0x10 | 0x18 | 0x20 | 0x28 | 0x30 | 0x38          |
   -------------------------------------------------------------------------------------
   |        | MXCSR | x87 CW | R12  | R13  | R14  | R15  | RBX  | RBP  | return address |
   -------------------------------------------------------------------------------------
   (bytes 0x06-0x07 are unused; 0x40 bytes in all, so a context keeps the 16-byte alignment of
   the call that suspended it)

   Saved: what the SysV ABI says a called function must preserve — RBX, RBP, R12-R15, RSP (the
   context pointer itself), the control bits of MXCSR and the x87 control word (ABI §3.2.1,
   figure 3.4: "callee-saved"). Everything else is caller-saved, so a switch, being a call,
   may clobber it.

   MXCSR and the x87 control word are per-fiber state, as Boost.Context keeps them: a fiber
   that sets a rounding mode or unmasks an exception (fesetround, feenableexcept) and switches
   out must find them again when it resumes, perhaps on another thread, and must not impose them
   on the fiber that runs next. Dropping them would be faster (STMXCSR is the most expensive
   instruction here: ~2.6 ns of a 5.2 ns jump on the Zen 4 this was measured on; FNSTCW, FLDCW
   and LDMXCSR cost ~0.7 ns together) and an ABI violation, so they stay. Reloading them only
   when they differ from the outgoing context's was tried and is slower: the compare waits for
   STMXCSR's store, the unconditional reload does not.

   Resuming (jump): the return address is loaded and jumped to (JMP through a register), not
   RET'd to: the return-stack predictor would guess the caller of this switch, on the other
   stack, while the indirect-branch predictor learns where switches resume (a bare ping-pong:
   5.2 ns a switch with JMP, 10.7 with RET, on Zen 4). Ontop is different (see there).

   A fresh context (make) resumes in weft_ctx_trampoline with the entry function in R12. The
   trampoline is the bottom of every fiber's stack: its CFI says the return address is
   undefined and RBP is 0 there, so DWARF unwinders (libgcc, gdb) and frame-pointer walkers stop
   at it instead of wandering into whatever lies above the stack.

   Not supported (and not claimed in a .note.gnu.property, so the linker marks the program as
   neither): CET shadow stacks (a switch changes stacks under them) and IBT (resuming is an
   indirect jump to a return address, which carries no ENDBR64). */

#define CTX_MXCSR 0x00
#define CTX_FPUCW 0x04
#define CTX_R12 0x08
#define CTX_R13 0x10
#define CTX_R14 0x18
#define CTX_R15 0x20
#define CTX_RBX 0x28
#define CTX_RBP 0x30
#define CTX_RIP 0x38
#define CTX_SIZE 0x40

.text

/* SAVE: push the layout above below the return address; leaves the old context in RAX.
   The CFI describes a frame of this layout, which stays true across the stack switch: the
   context being resumed has the same layout at its stack pointer. */
.macro SAVE
    leaq   -CTX_RIP(%rsp), %rsp
    .cfi_adjust_cfa_offset CTX_RIP
    stmxcsr CTX_MXCSR(%rsp)
    fnstcw CTX_FPUCW(%rsp)
    movq   %r12, CTX_R12(%rsp)
    .cfi_rel_offset %r12, CTX_R12
    movq   %r13, CTX_R13(%rsp)
    .cfi_rel_offset %r13, CTX_R13
    movq   %r14, CTX_R14(%rsp)
    .cfi_rel_offset %r14, CTX_R14
    movq   %r15, CTX_R15(%rsp)
    .cfi_rel_offset %r15, CTX_R15
    movq   %rbx, CTX_RBX(%rsp)
    .cfi_rel_offset %rbx, CTX_RBX
    movq   %rbp, CTX_RBP(%rsp)
    .cfi_rel_offset %rbp, CTX_RBP
    movq   %rsp, %rax
.endm

/* SWITCH_TO to: move to the context `to` and restore its registers (all but the return
   address). */
.macro SWITCH_TO to
    movq   \to, %rsp
    ldmxcsr CTX_MXCSR(%rsp)
    fldcw  CTX_FPUCW(%rsp)
    movq   CTX_R12(%rsp), %r12
    movq   CTX_R13(%rsp), %r13
    movq   CTX_R14(%rsp), %r14
    movq   CTX_R15(%rsp), %r15
    movq   CTX_RBX(%rsp), %rbx
    movq   CTX_RBP(%rsp), %rbp
.endm

/* Transfer weft_ctx_jump(Ctx to, void* data): suspend the caller, resume `to`, which receives
   {the caller's context, data} in RAX:RDX (as its own jump's result, or as the trampoline's
   input for a fresh context). */
.globl weft_ctx_jump
.hidden weft_ctx_jump
.type weft_ctx_jump, @function
.align 16
weft_ctx_jump:
    .cfi_startproc
    SAVE
    SWITCH_TO %rdi
    movq   CTX_RIP(%rsp), %r8
    leaq   CTX_SIZE(%rsp), %rsp
    .cfi_def_cfa_offset 0
    .cfi_register %rip, %r8
    .cfi_restore %r12
    .cfi_restore %r13
    .cfi_restore %r14
    .cfi_restore %r15
    .cfi_restore %rbx
    .cfi_restore %rbp
    movq   %rsi, %rdx
    jmp    *%r8
    .cfi_endproc
.size weft_ctx_jump, .-weft_ctx_jump

/* Transfer weft_ctx_ontop(Ctx to, void* data, Transfer (*fn)(Transfer)): suspend the caller,
   move to `to` and jump to fn({the caller's context, data}) with `to`'s return address on top
   of the stack, as if `to`'s pending switch had called fn: fn's result (RAX:RDX) becomes that
   switch's result, and an exception thrown by fn unwinds into `to`'s frames.

   fn's RET pops the return-stack entry that the call into this routine pushed, so the
   predictor stays balanced, and it predicts right whenever both sides switched from the same
   place, as a yield handing off to another yielder does. Calling fn instead (and jumping to
   `to`'s resume address afterwards) makes a bare ontop ping-pong twice as fast (5.5 ns vs 9.9)
   but left one entry behind per switch, which made every later return mispredict: weft's
   yield went from 17.5 ns to 23.5. */
.globl weft_ctx_ontop
.hidden weft_ctx_ontop
.type weft_ctx_ontop, @function
.align 16
weft_ctx_ontop:
    .cfi_startproc
    SAVE
    SWITCH_TO %rdi
    leaq   CTX_RIP(%rsp), %rsp
    .cfi_def_cfa_offset 8
    .cfi_restore %r12
    .cfi_restore %r13
    .cfi_restore %r14
    .cfi_restore %r15
    .cfi_restore %rbx
    .cfi_restore %rbp
    movq   %rax, %rdi
    jmp    *%rdx
    .cfi_endproc
.size weft_ctx_ontop, .-weft_ctx_ontop

/* Ctx weft_ctx_make(void* top, size_t size, void (*fn)(Transfer)): a context on the stack
   below `top` (size is not needed here) that starts in weft_ctx_trampoline, which calls fn.
   Its MXCSR and x87 control word are the caller's, as a new thread inherits its creator's
   floating-point environment (POSIX pthread_create). After the first jump pops the return
   address, RSP is top rounded down to 16: the alignment a call instruction expects. */
.globl weft_ctx_make
.hidden weft_ctx_make
.type weft_ctx_make, @function
.align 16
weft_ctx_make:
    .cfi_startproc
    movq   %rdi, %rax
    andq   $-16, %rax
    subq   $CTX_SIZE, %rax
    stmxcsr CTX_MXCSR(%rax)
    fnstcw CTX_FPUCW(%rax)
    movq   %rdx, CTX_R12(%rax)
    xorl   %ecx, %ecx
    movq   %rcx, CTX_R13(%rax)
    movq   %rcx, CTX_R14(%rax)
    movq   %rcx, CTX_R15(%rax)
    movq   %rcx, CTX_RBX(%rax)
    movq   %rcx, CTX_RBP(%rax)
    leaq   weft_ctx_trampoline(%rip), %rcx
    movq   %rcx, CTX_RIP(%rax)
    ret
    .cfi_endproc
.size weft_ctx_make, .-weft_ctx_make

/* weft_ctx_trampoline: where a fresh context starts, with the transfer in RAX:RDX, RBP = 0 and
   RSP 16-byte aligned. Calls fn(transfer); fn must never return (weft's fiber_entry ends by
   switching away for good), so a return traps. The outermost frame of every fiber stack. */
.type weft_ctx_trampoline, @function
.align 16
weft_ctx_trampoline:
    .cfi_startproc
    .cfi_undefined %rip
    movq   %rax, %rdi
    movq   %rdx, %rsi
    call   *%r12
    ud2
    .cfi_endproc
.size weft_ctx_trampoline, .-weft_ctx_trampoline

.section .note.GNU-stack,"",%progbits
