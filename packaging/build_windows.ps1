# Build the Windows bundle and its per-user installer (Inno Setup), on Windows 10/11 x64.
#
#   powershell -ExecutionPolicy Bypass -File packaging\build_windows.ps1
#   powershell -ExecutionPolicy Bypass -File packaging\build_windows.ps1 -Python "py -3.12"
#   ... -SkipSelfTest        (do not run the frozen app's --self-test before packaging)
#
# Needs: 64-bit CPython 3.11 or newer from python.org (or the "py" launcher), Inno Setup 6.3 or
# newer (ISCC.exe on PATH, or in its default install folder), network access to PyPI for the
# first build. Produces dist\vg-desktop\ (the one-folder bundle) and
# dist\vg-desktop-<version>-windows-x64-setup.exe.
param(
    [string]$Python = "py -3",
    [switch]$SkipSelfTest
)
$ErrorActionPreference = "Stop"
Set-Location (Join-Path $PSScriptRoot "..")

function Invoke-Checked {
    param([string]$Exe, [Parameter(ValueFromRemainingArguments = $true)][string[]]$Arguments)
    & $Exe @Arguments
    if ($LASTEXITCODE -ne 0) { throw "failed (exit $LASTEXITCODE): $Exe $($Arguments -join ' ')" }
}

$venv = "build\venv-pack"
$py = "$venv\Scripts\python.exe"
if (-not (Test-Path $py)) {
    $launcher, $launcherArgs = $Python -split " "
    Write-Host "build_windows: creating $venv with $Python"
    Invoke-Checked $launcher @launcherArgs -m venv $venv
    Invoke-Checked $py -m pip install -q --upgrade pip
}
# The app with its runtime dependencies (pyproject.toml) and PyInstaller; never the test tools.
Invoke-Checked $py -m pip install -q --disable-pip-version-check -r packaging\requirements-build.txt .
Invoke-Checked $py packaging\render_icons.py --check
$version = (& $py packaging\project_info.py version).Trim()

Write-Host "build_windows: PyInstaller bundle dist\vg-desktop (version $version)"
Invoke-Checked "$venv\Scripts\pyinstaller.exe" --noconfirm --log-level WARN --distpath dist `
    --workpath build\pyinstaller packaging\vg-desktop.spec
foreach ($needed in @("dist\vg-desktop\vg-desktop.exe",
                      "dist\vg-desktop\_internal\PySide6\plugins\platforms\qoffscreen.dll",
                      "dist\vg-desktop\_internal\PySide6\plugins\platforms\qwindows.dll",
                      "dist\vg-desktop\_internal\resources\icons\vg-desktop.svg")) {
    if (-not (Test-Path $needed)) { throw "missing from the bundle: $needed" }
}
$bundleMB = [math]::Round(((Get-ChildItem dist\vg-desktop -Recurse -File |
    Measure-Object Length -Sum).Sum / 1MB), 1)
Write-Host "build_windows: bundle size $bundleMB MB"

if (-not $SkipSelfTest) {
    # The executable is windowed (no console): its report is not printed, the exit code tells.
    New-Item -ItemType Directory -Force build\smoke | Out-Null
    $shot = Join-Path (Get-Location) "build\smoke\windows-self-test.png"
    $run = Start-Process -FilePath "dist\vg-desktop\vg-desktop.exe" -Wait -PassThru `
        -ArgumentList @("--self-test", "--duration", "20", "--screenshot", "`"$shot`"")
    if ($run.ExitCode -ne 0) { throw "the frozen app's --self-test failed (exit $($run.ExitCode))" }
    if (-not (Test-Path $shot)) { throw "the self-test saved no screenshot" }
    Write-Host "build_windows: frozen self-test passed; screenshot $shot"
}

$iscc = (Get-Command ISCC.exe -ErrorAction SilentlyContinue).Source
if (-not $iscc) {
    $iscc = @("${env:ProgramFiles(x86)}\Inno Setup 6\ISCC.exe", "$env:ProgramFiles\Inno Setup 6\ISCC.exe",
              "$env:LOCALAPPDATA\Programs\Inno Setup 6\ISCC.exe") |
        Where-Object { Test-Path $_ } | Select-Object -First 1
}
if (-not $iscc) { throw "Inno Setup 6 (ISCC.exe) not found: install it from jrsoftware.org" }
Invoke-Checked $iscc /Q "/DAppVersion=$version" packaging\windows\vg-desktop.iss
$setup = "dist\vg-desktop-$version-windows-x64-setup.exe"
$setupMB = [math]::Round((Get-Item $setup).Length / 1MB, 1)
Write-Host "build_windows: installer $setup ($setupMB MB)"
