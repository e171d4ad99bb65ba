; Inno Setup script: installs the PyInstaller one-folder bundle (dist\chainfolio).
;   iscc /DVersion=0.1.0 packaging\windows\chainfolio.iss   -> dist\Chainfolio-0.1.0-setup.exe
; Per-user install by default (no admin rights needed); the user may choose all users.
#ifndef Version
  #define Version "0.0.0"
#endif

[Setup]
AppId={{6F1B7C2E-3D7A-4C55-9B2E-C4A1F0D0CF01}
AppName=Chainfolio
AppVersion={#Version}
AppPublisher=Chainfolio developers
DefaultDirName={autopf}\Chainfolio
DefaultGroupName=Chainfolio
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
OutputDir=..\..\dist
OutputBaseFilename=Chainfolio-{#Version}-setup
SetupIconFile=..\build\chainfolio.ico
UninstallDisplayIcon={app}\chainfolio.exe
Compression=lzma2/max
SolidCompression=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
WizardStyle=modern

[Files]
Source: "..\..\dist\chainfolio\*"; DestDir: "{app}"; Flags: recursesubdirs ignoreversion

[Icons]
Name: "{group}\Chainfolio"; Filename: "{app}\chainfolio.exe"
Name: "{autodesktop}\Chainfolio"; Filename: "{app}\chainfolio.exe"; Tasks: desktopicon

[Tasks]
Name: "desktopicon"; Description: "Create a desktop shortcut"; Flags: unchecked

[Run]
Filename: "{app}\chainfolio.exe"; Description: "Start Chainfolio"; Flags: nowait postinstall skipifsilent
