/* Run a benchmark as on a CPU without AMX, on a machine that has it.
 *
 * Linux hands out AMX tile state only to a process that asks for it with
 * arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA); oneDNN (torch) and onnxruntime's MLAS
 * both ask through libc's syscall() before they pick AMX kernels. This library refuses that
 * one request, so both fall back to their AVX-512 (BF16, VNNI) kernels, as on a CPU with
 * AVX-512 but no AMX (an AMD EPYC Zen 4, say). Everything else passes through.
 *
 *   gcc -O2 -shared -fPIC -o /tmp/no_amx.so bench/no_amx.c -ldl
 *   LD_PRELOAD=/tmp/no_amx.so .venv/bin/python bench/enrich.py --before models.backend=onnx-int8
 *
 * Check it took: a bf16 512x512 matmul in torch (one thread) goes from about 0.7 ms to 3.4 ms,
 * onnx-int8 from about 1,000 to 800 texts/s. auto's cached choice holds whether AMX is granted
 * (models.machine.amx_granted makes the same request, so it sees this refusal too): a choice
 * made with AMX is measured again without it, and the other way round.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <sys/syscall.h>

#define ARCH_REQ_XCOMP_PERM 0x1023

long syscall(long number, ...) {
  va_list ap;
  va_start(ap, number);
  long a[6];
  for (int i = 0; i < 6; i++) a[i] = va_arg(ap, long);
  va_end(ap);
  if (number == SYS_arch_prctl && a[0] == ARCH_REQ_XCOMP_PERM) {
    errno = EPERM;
    return -1;
  }
  static long (*real)(long, ...) = 0;
  if (!real) real = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
  return real(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}
