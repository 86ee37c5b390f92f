// The words of turnout-scan in English and Spanish; see i18n.h.
#include "tools/scan/i18n.h"

#include <iterator>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace turnout::tools::scan {
namespace {

struct Words {
  const char* en;
  const char* es;
};

absl::string_view Pick(const Words& words, Language language) {
  return language == Language::kSpanish ? words.es : words.en;
}

// Indexed by ScanResult::Status; STATUS_UNSPECIFIED first.
constexpr Words kHeadlines[] = {
    {"?", "?"},
    {"ADMITTED", "ADMITIDO"},
    {"EXIT OK", "SALIDA OK"},
    {"ALREADY IN", "YA ENTRÓ"},
    {"WRONG EVENT", "OTRO EVENTO"},
    {"NOT ON LIST", "NO INSCRITO"},
    {"ROOM FULL", "SALA LLENA"},
    {"CANCELED", "CANCELADO"},
    {"REVOKED", "REVOCADO"},
    {"INVALID", "INVÁLIDO"},
    {"CLOSED", "CERRADO"},
};

constexpr Words kStatusTexts[] = {
    {"Unknown answer", "Respuesta desconocida"},
    {"Admitted", "Admitido"},
    {"Exit recorded", "Salida registrada"},
    {"Already checked in", "Ya registró su entrada"},
    {"A ticket for another event", "Boleto de otro evento"},
    {"Not registered for this session", "No está inscrito en esta sesión"},
    {"This room is full", "Esta sala está llena"},
    {"Registration canceled", "Registro cancelado"},
    {"Ticket replaced or revoked: ask for the new one",
     "Boleto reemplazado o revocado: pida el nuevo"},
    {"Not a valid ticket", "No es un boleto válido"},
    {"Check-in is not open here now", "El registro no está abierto aquí ahora"},
};

// Indexed by AttentionFlag; ATTENTION_FLAG_UNSPECIFIED first.
constexpr Words kFlags[] = {
    {"Needs attention", "Necesita atención"},
    {"Needs a Spanish interpretation headset", "Necesita audífonos de interpretación al español"},
    {"Needs an English interpretation headset", "Necesita audífonos de interpretación al inglés"},
    {"Accessibility needs: seating, mobility, hearing or sight",
     "Necesidades de accesibilidad: asiento, movilidad, audición o vista"},
    {"Needs childcare", "Necesita cuidado de niños"},
    {"Dietary needs at breakfast and lunch",
     "Necesidades alimentarias en el desayuno y el almuerzo"},
};

// Indexed by Msg.
constexpr Words kTexts[] = {
    /* kReady */ {"READY", "LISTO"},
    /* kTryAgain */ {"TRY AGAIN", "OTRA VEZ"},
    /* kError */ {"ERROR", "ERROR"},
    /* kSearch */ {"SEARCH", "BUSCAR"},
    /* kFromImage */ {"Read from the image $0", "Leído de la imagen $0"},
    /* kReadyHint */
    {"Scan a ticket, or type /? for help", "Escanee un boleto, o escriba /? para ver la ayuda"},
    /* kEntryMode */ {"ENTRY", "ENTRADA"},
    /* kExitMode */ {"EXIT", "SALIDA"},
    /* kOnline */ {"online", "en línea"},
    /* kOffline */ {"OFFLINE", "SIN CONEXIÓN"},
    /* kQueued */ {"$0 queued", "$0 en cola"},
    /* kLastSync */ {"last sync $0", "última sincronización $0"},
    /* kNever */ {"never", "nunca"},
    /* kInside */ {"$0 inside", "$0 adentro"},
    /* kInsideOf */ {"$0 inside of $1", "$0 adentro de $1"},
    /* kEntrance */ {"Entrance", "Entrada principal"},
    /* kPrompt */ {"scan or type> ", "escanee o escriba> "},
    /* kName */ {"Name", "Nombre"},
    /* kBreakouts */ {"Breakouts", "Talleres"},
    /* kRound */ {"Round $0", "Ronda $0"},
    /* kWaitlisted */ {"waitlisted", "en lista de espera"},
    /* kFirstEntry */ {"First entry $0", "Primera entrada $0"},
    /* kScannedAt */ {"Scanned at $0", "Escaneado a las $0"},
    /* kDecidedOffline */
    {"Decided offline: it will be uploaded when the server answers",
     "Decidido sin conexión: se enviará cuando responda el servidor"},
    /* kReplayed */
    {"The answer to an earlier, identical scan", "La respuesta a un escaneo anterior idéntico"},
    /* kEmptyLine */
    {"Empty line: scan a ticket or type a code",
     "Línea vacía: escanee un boleto o escriba un código"},
    /* kLineTooLong */
    {"Not a ticket: the scanner sent $0 bytes in one line. Scan again.",
     "No es un boleto: el escáner envió $0 bytes en una línea. Escanee de nuevo."},
    /* kBinaryInput */
    {"Not a ticket: unreadable characters. Scan again.",
     "No es un boleto: caracteres ilegibles. Escanee de nuevo."},
    /* kImageUnreadable */
    {"Cannot read the image $0: $1", "No se puede leer la imagen $0: $1"},
    /* kImageNoQr */
    {"No QR code found in $0", "No se encontró un código QR en $0"},
    /* kSearchTooShort */
    {"Type at least 3 letters of the name: /f NAME",
     "Escriba al menos 3 letras del nombre: /f NOMBRE"},
    /* kSearchResults */ {"Matches for \"$0\":", "Resultados para \"$0\":"},
    /* kNoMatches */ {"Nobody matches \"$0\"", "Nadie coincide con \"$0\""},
    /* kCheckedIn */ {"checked in", "ya entró"},
    /* kPickHint */
    {"Type /1, /2, ... to admit that person", "Escriba /1, /2, ... para admitir a esa persona"},
    /* kNoSuchMatch */
    {"No match $0: search first with /f NAME", "No hay resultado $0: busque primero con /f NOMBRE"},
    /* kWalkInUsage */
    {"Walk-in: /w NAME; LANGUAGE; FLAG,FLAG (flags: $0)",
     "Sin registro previo: /w NOMBRE; IDIOMA; MARCA,MARCA (marcas: $0)"},
    /* kWalkInBadFlag */
    {"Unknown flag \"$0\" (flags: $1)", "Marca desconocida \"$0\" (marcas: $1)"},
    /* kAnnulled */ {"The last scan was annulled", "Se anuló el último escaneo"},
    /* kCheckpoints */ {"Checkpoints:", "Puntos de control:"},
    /* kCheckpointPickHint */
    {"Type /c N to scan at checkpoint N", "Escriba /c N para escanear en el punto N"},
    /* kNoSuchCheckpoint */
    {"No checkpoint $0: type /c to list them", "No existe el punto $0: escriba /c para verlos"},
    /* kCheckpointSet */ {"Scanning at $0", "Escaneando en $0"},
    /* kSyncDone */ {"Synchronized with the server", "Sincronizado con el servidor"},
    /* kSyncFailed */ {"Could not synchronize: $0", "No se pudo sincronizar: $0"},
    /* kUnknownCommand */
    {"Unknown command /$0: type /? for help", "Comando desconocido /$0: escriba /? para la ayuda"},
    /* kDamagedStore */
    {"The local store was damaged and set aside: $0",
     "El almacén local estaba dañado y se apartó: $0"},
    /* kSyncError */ {"sync: $0", "sincronización: $0"},
    /* kDidNotWork */ {"That did not work: $0", "No funcionó: $0"},
    /* kHelp */
    {"Scan a ticket, type its code, or drop a PNG/JPEG of it here. Commands (then Enter):\n"
     "  /x          switch between ENTRY and EXIT\n"
     "  /f NAME     find an attendee by name (3 letters or more)\n"
     "  /1 /2 ...   admit the person found with that number\n"
     "  /w NAME; LANGUAGE; FLAG,FLAG   register and admit a walk-in\n"
     "  /u          undo (annul) the last scan\n"
     "  /c          list checkpoints; /c N scans at checkpoint N\n"
     "  /s          synchronize with the server now\n"
     "  /?          this help\n"
     "  /q          quit",
     "Escanee un boleto, escriba su código o suelte aquí un PNG/JPEG. Comandos (y Enter):\n"
     "  /x          cambiar entre ENTRADA y SALIDA\n"
     "  /f NOMBRE   buscar a una persona por nombre (3 letras o más)\n"
     "  /1 /2 ...   admitir a la persona encontrada con ese número\n"
     "  /w NOMBRE; IDIOMA; MARCA,MARCA   registrar y admitir a alguien sin registro\n"
     "  /u          deshacer (anular) el último escaneo\n"
     "  /c          ver los puntos de control; /c N escanea en el punto N\n"
     "  /s          sincronizar ahora con el servidor\n"
     "  /?          esta ayuda\n"
     "  /q          salir"},
};

static_assert(std::size(kHeadlines) == v1::ScanResult::Status_ARRAYSIZE);
static_assert(std::size(kStatusTexts) == v1::ScanResult::Status_ARRAYSIZE);
static_assert(std::size(kFlags) == v1::AttentionFlag_ARRAYSIZE);
static_assert(std::size(kTexts) == static_cast<size_t>(Msg::kCount));

template <size_t N>
absl::string_view Lookup(const Words (&table)[N], int index, Language language) {
  return Pick(table[index >= 0 && static_cast<size_t>(index) < N ? index : 0], language);
}

}  // namespace

std::optional<Language> ParseLanguage(absl::string_view tag) {
  const std::string lower = absl::AsciiStrToLower(tag);
  const absl::string_view base = absl::string_view(lower).substr(0, lower.find_first_of("-_"));
  if (base == "en") return Language::kEnglish;
  if (base == "es") return Language::kSpanish;
  return std::nullopt;
}

absl::string_view LanguageTag(Language language) {
  return language == Language::kSpanish ? "es" : "en";
}

absl::string_view Headline(v1::ScanResult::Status status, Language language) {
  return Lookup(kHeadlines, status, language);
}

absl::string_view StatusText(v1::ScanResult::Status status, Language language) {
  return Lookup(kStatusTexts, status, language);
}

absl::string_view FlagText(v1::AttentionFlag flag, Language language) {
  return Lookup(kFlags, flag, language);
}

absl::string_view Text(Msg msg, Language language) {
  return Lookup(kTexts, static_cast<int>(msg), language);
}

}  // namespace turnout::tools::scan
