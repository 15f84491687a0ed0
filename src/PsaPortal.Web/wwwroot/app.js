// PsaPortal's few browser helpers, called through IJSRuntime.
window.psaPortal = {
    // The viewer's IANA time zone, so times are shown as the viewer lives them.
    timeZone: () => Intl.DateTimeFormat().resolvedOptions().timeZone,
};
