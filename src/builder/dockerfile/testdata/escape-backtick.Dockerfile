# escape=`
FROM mcr.microsoft.com/windows/servercore
# With the backtick escape, backslashes are ordinary characters.
COPY testfile.txt c:\
RUN dir c:\
RUN powershell -Command `
    Write-Host hello; `
    Write-Host world
ENV PATH="C:\bin;${PATH}" `
    OTHER=``x
COPY --chown="a` b" x.txt c:\dest\
