/*
 * A stand-in for Windows' bcryptprimitives.dll, for running tests under Wine releases older
 * than 9.0, which lack that library. Rust's standard library (1.78 and later) imports
 * ProcessPrng from it at start-up, so without it every test binary fails to load
 * (STATUS_DLL_NOT_FOUND, 0xc0000135). This library exports only ProcessPrng and fills the
 * buffer from RtlGenRandom (advapi32's SystemFunction036), which Wine has long provided.
 * Used only by ci/windows.sh; never shipped.
 */
#include <windows.h>

/* RtlGenRandom's exported name; its header declaration needs extra defines, so declare it. */
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    /* RtlGenRandom takes a 32-bit length; feed it in pieces that fit. */
    while (length > 0) {
        ULONG piece = length > 0x40000000 ? 0x40000000 : (ULONG)length;
        if (!SystemFunction036(data, piece)) {
            return FALSE;
        }
        data += piece;
        length -= piece;
    }
    return TRUE;
}
