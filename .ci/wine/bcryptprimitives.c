/*
 * Minimal stand-in for bcryptprimitives.dll, used only to run Go's
 * windows/amd64 test binaries under Wine 8 (Debian 12 bookworm), which does
 * not ship this DLL. Go >= 1.22 loads bcryptprimitives.dll at startup and
 * calls ProcessPrng for its random source; without the DLL the runtime dies
 * before main ("bcryptprimitives.dll not found").
 *
 * ProcessPrng is implemented on top of RtlGenRandom (advapi32!SystemFunction036),
 * which Wine does implement. Built by .ci/wine-setup.sh with mingw-w64:
 *   x86_64-w64-mingw32-gcc -shared -O2 -nostdlib -e DllMain -s \
 *       -o bcryptprimitives.dll bcryptprimitives.c bcryptprimitives.def \
 *       -ladvapi32 -lkernel32
 *
 * Not for production use; test-only shim.
 */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>

/* RtlGenRandom is exported by advapi32 under this name. */
__declspec(dllimport) BOOLEAN WINAPI SystemFunction036(PVOID buf, ULONG len);

BOOL WINAPI DllMain(HINSTANCE inst, DWORD reason, LPVOID reserved)
{
    (void)inst; (void)reason; (void)reserved;
    return TRUE;
}

/* BOOL WINAPI ProcessPrng(PBYTE pbData, SIZE_T cbData);
 * Real Windows documents this as always returning TRUE. */
BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG chunk = len > 0x7fffffff ? 0x7fffffff : (ULONG)len;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
