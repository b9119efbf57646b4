; Inno Setup 6 script (6.3 or newer) for Vanishing Gradient Lab: a per-user installer, no
; administrator rights needed. Built by packaging\build_windows.ps1, which passes the version:
;
;   ISCC.exe /DAppVersion=0.1.0 packaging\windows\vg-desktop.iss
;
; Installs the PyInstaller bundle (dist\vg-desktop\) to %LOCALAPPDATA%\Programs\Vanishing Gradient
; Lab, adds a Start-menu shortcut (and, if asked, a desktop one), associates .vgx experiments and
; .vglesson lessons with the app for the current user (HKCU\Software\Classes), and registers an
; uninstaller (Settings > Apps). Output: dist\vg-desktop-<version>-windows-x64-setup.exe.

#ifndef AppVersion
  #error Pass the version: ISCC /DAppVersion=X.Y.Z (build_windows.ps1 does this)
#endif
#define AppName "Vanishing Gradient Lab"
#define AppPublisher "Vanishing Gradient Lab"
#define AppExeName "vg-desktop.exe"
#define Root SourcePath + "..\.."
#define ExperimentProgId "VanishingGradientLab.Experiment"
#define LessonProgId "VanishingGradientLab.Lesson"

[Setup]
; AppId identifies the app across versions (upgrades, uninstall): never change it.
AppId={{B36AB50C-0955-425C-BDAD-CC679BD97C48}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher={#AppPublisher}
; Per-user install: {autopf} is %LOCALAPPDATA%\Programs and HKA is HKCU when running without
; administrative privileges.
PrivilegesRequired=lowest
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
ChangesAssociations=yes
SetupIconFile={#Root}\resources\icons\vg-desktop.ico
UninstallDisplayIcon={app}\{#AppExeName}
UninstallDisplayName={#AppName}
OutputDir={#Root}\dist
OutputBaseFilename=vg-desktop-{#AppVersion}-windows-x64-setup
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
CloseApplications=yes

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
; The whole one-folder bundle; the previous version's files are replaced on upgrade.
Source: "{#Root}\dist\vg-desktop\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[InstallDelete]
; An upgrade must not keep libraries the new version no longer ships.
Type: filesandordirs; Name: "{app}\_internal"

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExeName}"; Comment: "Watch the vanishing gradient problem happen, and each cure fix it"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExeName}"; Tasks: desktopicon

[Registry]
; .vgx (experiment) and .vglesson (lesson) files open in the app. OpenWithProgids adds the app to
; "Open with" without taking the extension from another program; the ProgIDs say how to open.
Root: HKA; Subkey: "Software\Classes\.vgx\OpenWithProgids"; ValueType: string; ValueName: "{#ExperimentProgId}"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\{#ExperimentProgId}"; ValueType: string; ValueName: ""; ValueData: "{#AppName} experiment"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\{#ExperimentProgId}\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: "{app}\{#AppExeName},0"
Root: HKA; Subkey: "Software\Classes\{#ExperimentProgId}\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExeName}"" ""%1"""
Root: HKA; Subkey: "Software\Classes\.vglesson\OpenWithProgids"; ValueType: string; ValueName: "{#LessonProgId}"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\{#LessonProgId}"; ValueType: string; ValueName: ""; ValueData: "{#AppName} lesson"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\{#LessonProgId}\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: "{app}\{#AppExeName},0"
Root: HKA; Subkey: "Software\Classes\{#LessonProgId}\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExeName}"" ""%1"""
; The extensions' default handler, only if no other program already claimed them.
Root: HKA; Subkey: "Software\Classes\.vgx"; ValueType: string; ValueName: ""; ValueData: "{#ExperimentProgId}"; Flags: uninsdeletevalue createvalueifdoesntexist
Root: HKA; Subkey: "Software\Classes\.vglesson"; ValueType: string; ValueName: ""; ValueData: "{#LessonProgId}"; Flags: uninsdeletevalue createvalueifdoesntexist
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExeName}\SupportedTypes"; ValueType: string; ValueName: ".vgx"; ValueData: ""; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExeName}\SupportedTypes"; ValueType: string; ValueName: ".vglesson"; ValueData: ""

[Run]
Filename: "{app}\{#AppExeName}"; Description: "{cm:LaunchProgram,{#StringChange(AppName, '&', '&&')}}"; Flags: nowait postinstall skipifsilent
